//! A string that never prints: API keys, webhook URLs with tokens, passwords.

use std::fmt;

/// A secret value. `Debug` and `Display` print `***`; only [`Secret::expose`] reveals it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The real value, for building a request. Never log the result.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when no value is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A hint that is safe to show: the first and last four characters of a key of 16 or more
    /// (`sk-o***6789`), only the last four of 12 to 15, `***` for anything shorter — at most
    /// half of a key is ever shown.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() < 12 {
            return "***".to_owned();
        }
        if chars.len() < 16 {
            let tail: String = chars[chars.len() - 4..].iter().collect();
            return format!("***{tail}");
        }
        let head: String = chars[..4].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}***{tail}")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_its_value() {
        let s = Secret::new("sk-or-v1-abcdef0123456789");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{:?}", Some(&s)), "Some(***)");
        assert_eq!(s.expose(), "sk-or-v1-abcdef0123456789");
    }

    #[test]
    fn masked_shows_only_the_ends_of_long_keys() {
        assert_eq!(Secret::new("sk-or-v1-000006789").masked(), "sk-o***6789");
        assert_eq!(Secret::new("short").masked(), "***");
        assert_eq!(Secret::new("abcdefgh1234").masked(), "***1234");
    }
}
