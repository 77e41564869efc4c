//! The one scrubber for text that leaves the process (check errors kept in state and alerts,
//! API responses, CLI output, channel messages, log lines, config validation messages).
//!
//! A [`Scrubber`] knows a set of secret values and removes each in every encoding the
//! project can produce or receive back: as written; JSON-escaped (`\"`, `\/`, `\uXXXX`);
//! URL-encoded with upper- or lower-case hex, whole or in part (Python's `quote` keeps `/`),
//! `+` for a space; HTML-escaped; split by a line break (and the indentation after it); and
//! inside base64 at any alignment (an SMTP server echoing `AUTH PLAIN` = base64 of
//! `\0user\0password`). Letters of a secret are matched case-sensitively, hex digits of an
//! encoding are not.

use base64::Engine as _;
use serde_json::Value;

/// What a secret is replaced by.
pub const MASK: &str = "***";

/// Shortest secret named by its field (`api_key`, `password`, …) or resolved from
/// `secretsmanager://` that is scrubbed from every text: shorter ones would mask words.
const MIN_NAMED: usize = 4;
/// Shortest value taken as a secret only by where it is (a `${VAR}` value, a header value, URL
/// userinfo or query value): those include ports, flags and formats.
const MIN_DERIVED: usize = 6;
/// Shortest base64 core of a secret that is looked for.
const MIN_BASE64_CORE: usize = 6;
/// Shortest prefix of a secret removed at the very end of a text (snippets are cut to a length,
/// which can split a secret).
const MIN_TAIL_PREFIX: usize = 4;

/// A set of secret values and how to remove them from text. `Debug` shows only how many.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Scrubber {
    /// Distinct values, longest first (a longer secret containing a shorter one goes first).
    secrets: Vec<String>,
    /// Base64 cores of the secrets (see [`base64_cores`]).
    cores: Vec<String>,
    /// Also remove a prefix of a secret that ends the text ([`Scrubber::cutting_tails`]).
    tails: bool,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scrubber({} secrets)", self.secrets.len())
    }
}

impl Scrubber {
    /// A scrubber of exactly these values (empty ones ignored, whatever their length).
    pub fn new<S: Into<String>>(values: impl IntoIterator<Item = S>) -> Scrubber {
        let mut s = Scrubber::default();
        s.extend(values);
        s
    }

    /// Adds values to scrub.
    pub fn extend<S: Into<String>>(&mut self, values: impl IntoIterator<Item = S>) {
        for v in values {
            let v: String = v.into();
            if !v.is_empty() && !self.secrets.contains(&v) {
                self.cores.extend(base64_cores(&v));
                self.secrets.push(v);
            }
        }
        self.secrets
            .sort_by_key(|s| std::cmp::Reverse(s.chars().count()));
        self.cores.sort_by_key(|s| std::cmp::Reverse(s.len()));
        self.cores.dedup();
    }

    /// This scrubber, also removing a prefix of a secret (4 characters or more) that ends the
    /// text: for excerpts cut to a length, which can split a secret. Not for whole texts,
    /// where a word ending like a secret begins would be masked.
    pub fn cutting_tails(mut self) -> Scrubber {
        self.tails = true;
        self
    }

    /// True when there is nothing to scrub.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// The secrets of a configuration document (after `${VAR}` expansion and reference
    /// substitution): values of fields named like a secret (`api_key`, `password`, `secret`,
    /// `token`, …), header values, and the userinfo and query values of every URL in it.
    /// `resolved` are values that came from `${VAR}` or `secretsmanager://`.
    pub fn of_config(doc: &Value, resolved: impl IntoIterator<Item = String>) -> Scrubber {
        let mut found = Vec::new();
        collect(doc, None, false, &mut found);
        found.extend(resolved.into_iter().filter(|v| plausible(v, MIN_DERIVED)));
        Scrubber::new(found)
    }

    /// The secrets a check sends its provider, which may echo them: the API `key` (whatever
    /// its length, and each part of a composite `AK:SK` key), the userinfo and query values of
    /// its `base_url`, the secrets among its adapter `options` (headers, URLs, fields named
    /// like a secret) and its `resolved` values. It cuts tails: provider bodies are kept as
    /// excerpts. (`ProjectConfig::scrubber` gives a project's.)
    pub fn for_check(
        key: &str,
        base_url: Option<&str>,
        options: &Value,
        resolved: &Scrubber,
    ) -> Scrubber {
        let mut found = vec![key.to_owned()];
        if key.contains(':') {
            found.extend(key.split(':').filter(|p| p.len() >= 6).map(str::to_owned));
        }
        if let Some(url) = base_url {
            url_secrets(url, &mut found);
        }
        collect(options, None, false, &mut found);
        found.extend(resolved.secrets.iter().cloned());
        Scrubber::new(found).cutting_tails()
    }

    /// Those of `resolved` (values that came from `${VAR}` or `secretsmanager://`) that
    /// appear in one of `texts` or in a string of `values` (a project's fields, whatever their
    /// names: a request body, a path, a label).
    pub fn resolved_within<'a>(
        resolved: &[String],
        texts: impl IntoIterator<Item = &'a str>,
        values: &Value,
    ) -> Scrubber {
        let mut texts: Vec<&str> = texts.into_iter().collect();
        strings_of(values, &mut texts);
        Scrubber::new(
            resolved.iter().filter(|v| {
                plausible(v, MIN_DERIVED) && texts.iter().any(|t| t.contains(v.as_str()))
            }),
        )
    }

    /// `text` with every secret, in every known encoding, replaced by `***` (and a cut one at
    /// the end, see [`Scrubber::cutting_tails`]).
    pub fn scrub(&self, text: &str) -> String {
        if self.secrets.is_empty() {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        'scan: while at < text.len() {
            for secret in self.secrets.iter().chain(&self.cores) {
                if let Some(end) = match_encoded(text, at, secret, false) {
                    out.push_str(MASK);
                    at = end;
                    continue 'scan;
                }
            }
            for secret in self.secrets.iter().filter(|_| self.tails) {
                if secret.chars().count() > MIN_TAIL_PREFIX
                    && match_encoded(text, at, secret, true).is_some()
                {
                    out.push_str(MASK);
                    return out;
                }
            }
            let c = text[at..].chars().next().expect("at is a char boundary");
            out.push(c);
            at += c.len_utf8();
        }
        out
    }
}

/// Walks a config value collecting secrets: strings under a secret-like field name or a
/// `headers` object, and the secret parts of URLs anywhere.
fn collect(v: &Value, field: Option<&str>, in_headers: bool, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            let named = field.is_some_and(secret_field) && plausible(s, MIN_NAMED);
            if named || (in_headers && plausible(s, MIN_DERIVED)) {
                out.push(s.clone());
            }
            url_secrets(s, out);
        }
        Value::Array(items) => items.iter().for_each(|i| collect(i, field, false, out)),
        Value::Object(map) => {
            let headers = field.is_some_and(|f| f.eq_ignore_ascii_case("headers"));
            for (k, item) in map {
                collect(item, Some(k), headers, out);
            }
        }
        _ => {}
    }
}

/// Every string (values and keys) in `v`.
fn strings_of<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|i| strings_of(i, out)),
        Value::Object(map) => map.iter().for_each(|(k, i)| {
            out.push(k);
            strings_of(i, out);
        }),
        _ => {}
    }
}

/// A field whose value is a secret by its name.
fn secret_field(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "secret",
        "password",
        "passwd",
        "token",
        "api_key",
        "apikey",
        "access_key",
        "private_key",
        "credential",
    ]
    .iter()
    .any(|w| n.contains(w))
        || n == "key"
}

/// Long enough, and not a number or a flag.
fn plausible(s: &str, min: usize) -> bool {
    let t = s.trim();
    t.chars().count() >= min
        && t.parse::<f64>().is_err()
        && !t.eq_ignore_ascii_case("true")
        && !t.eq_ignore_ascii_case("false")
}

/// The userinfo (user and password) and query values of `url` (absolute, or a `/path?query`
/// after a base URL), as written and decoded.
fn url_secrets(url: &str, out: &mut Vec<String>) {
    let relative = url.starts_with('/').then(|| UrlParts {
        scheme: "",
        userinfo: None,
        rest: "",
        query: url
            .split_once('?')
            .map(|(_, q)| q.split('#').next().unwrap_or(q)),
        fragment: "",
    });
    let Some(parts) = UrlParts::of(url).or(relative) else {
        return;
    };
    let mut push = |s: &str| {
        for v in [s.to_owned(), percent_decode(s)] {
            if plausible(&v, MIN_DERIVED) {
                out.push(v);
            }
        }
    };
    if let Some(userinfo) = parts.userinfo {
        push(userinfo);
        userinfo.split(':').for_each(&mut push);
    }
    if let Some(query) = parts.query {
        for pair in query.split('&') {
            push(pair.split_once('=').map_or(pair, |(_, v)| v));
        }
    }
}

/// The pieces of an absolute URL that can carry secrets.
struct UrlParts<'a> {
    /// Up to the authority (`https://`).
    scheme: &'a str,
    userinfo: Option<&'a str>,
    /// Host, port and path.
    rest: &'a str,
    query: Option<&'a str>,
    /// `#…`, kept as is.
    fragment: &'a str,
}

impl<'a> UrlParts<'a> {
    fn of(url: &'a str) -> Option<UrlParts<'a>> {
        let start = url.find("://")? + 3;
        let (scheme, tail) = url.split_at(start);
        let (tail, fragment) = tail.split_at(tail.find('#').unwrap_or(tail.len()));
        let (tail, query) = match tail.split_once('?') {
            Some((t, q)) => (t, Some(q)),
            None => (tail, None),
        };
        let authority_end = tail.find('/').unwrap_or(tail.len());
        let (userinfo, rest) = match tail[..authority_end].rfind('@') {
            Some(at) => (Some(&tail[..at]), &tail[at + 1..]),
            None => (None, tail),
        };
        Some(UrlParts {
            scheme,
            userinfo,
            rest,
            query,
            fragment,
        })
    }
}

/// `url` with its userinfo and every query value replaced by `***`, for showing a configured
/// URL (`http://***@proxy:8080/v1?key=***`). Text that is not an absolute URL is returned as is.
pub fn mask_url(url: &str) -> String {
    let Some(p) = UrlParts::of(url) else {
        return url.to_owned();
    };
    let mut out = p.scheme.to_owned();
    if p.userinfo.is_some() {
        out.push_str(MASK);
        out.push('@');
    }
    out.push_str(p.rest);
    if let Some(query) = p.query {
        let masked: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) => format!("{k}={MASK}"),
                None if pair.is_empty() => String::new(),
                None => MASK.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&masked.join("&"));
    }
    out.push_str(p.fragment);
    out
}

/// `%XX` sequences decoded (invalid ones and non-UTF-8 results left as written).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

/// The parts of the base64 encodings of `secret` that do not depend on the bytes around it, at
/// each of the three alignments, in the standard and URL-safe alphabets: whatever is encoded
/// with the secret (`\0user\0password`), one of these appears in the encoding.
fn base64_cores(secret: &str) -> Vec<String> {
    let bytes = secret.as_bytes();
    let mut out = Vec::new();
    for pad in 0..3usize {
        let mut data = vec![0u8; pad];
        data.extend_from_slice(bytes);
        let enc = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&data);
        // Characters holding bits of the pad bytes, and a last one shared with what follows.
        let skip = (pad * 8).div_ceil(6);
        let drop_last = usize::from(data.len() % 3 != 0);
        let Some(core) = enc.get(skip..enc.len().saturating_sub(drop_last)) else {
            continue;
        };
        if core.len() >= MIN_BASE64_CORE {
            out.push(core.to_owned());
            out.push(core.replace('+', "-").replace('/', "_"));
        }
    }
    out
}

/// Where a match of `secret` starting at byte `at` of `text` ends, each character in any of
/// its encodings ([`char_forms`]) and a line break allowed between two characters. With
/// `tail`, a match of at least [`MIN_TAIL_PREFIX`] characters cut short by the end of the text
/// counts too.
fn match_encoded(text: &str, at: usize, secret: &str, tail: bool) -> Option<usize> {
    let chars: Vec<char> = secret.chars().collect();
    match_from(text, at, &chars, 0, tail)
}

/// [`match_encoded`] from the `i`th character on, trying each encoding that fits (so a `%`
/// taken literally can still be the start of `%25`).
fn match_from(text: &str, pos: usize, chars: &[char], i: usize, tail: bool) -> Option<usize> {
    if i == chars.len() {
        return (!tail).then_some(pos);
    }
    let starts = if i > 0 {
        break_ends(text, pos)
    } else {
        vec![pos]
    };
    starts.into_iter().find_map(|pos| {
        if pos >= text.len() {
            return (tail && i >= MIN_TAIL_PREFIX).then_some(pos);
        }
        char_forms(&text[pos..], chars[i])
            .into_iter()
            .find_map(|len| match_from(text, pos + len, chars, i + 1, tail))
    })
}

/// Where the next character may start after `pos`: past a line break and each length of the
/// indentation after it (longest first; the secret itself may go on with a space), or at `pos`.
fn break_ends(text: &str, pos: usize) -> Vec<usize> {
    let rest = &text[pos..];
    let Some(after) = rest
        .strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))
    else {
        return vec![pos];
    };
    let start = text.len() - after.len();
    let indent = after.len() - after.trim_start_matches([' ', '\t']).len();
    let mut out: Vec<usize> = (0..=indent).rev().map(|n| start + n).collect();
    out.push(pos);
    out
}

/// The lengths of the encodings of `c` that `text` starts with: as is, percent-encoded UTF-8
/// (hex in either case), JSON `\uXXXX` or short escape, HTML entity, `+` for a space.
fn char_forms(text: &str, c: char) -> Vec<usize> {
    let mut out = Vec::new();
    if text.starts_with(c) {
        out.push(c.len_utf8());
    }
    // Every other form starts with one of these: most positions of a text are ruled out here.
    if !text.starts_with(['%', '\\', '&', '+']) {
        return out;
    }
    let mut buf = [0u8; 4];
    let utf8 = c.encode_utf8(&mut buf).as_bytes();
    if percent_matches(text, utf8) {
        out.push(utf8.len() * 3);
    }
    if text.starts_with("\\u") {
        let mut units = [0u16; 2];
        let json: String = c
            .encode_utf16(&mut units)
            .iter()
            .map(|u| format!("\\u{u:04x}"))
            .collect();
        if text
            .get(..json.len())
            .is_some_and(|t| t.eq_ignore_ascii_case(&json))
        {
            out.push(json.len());
        }
    }
    let escaped: &[&str] = match c {
        '"' => &["\\\"", "&quot;", "&#34;", "&#x22;"],
        '\\' => &["\\\\"],
        '/' => &["\\/", "&#x2F;", "&#x2f;", "&#47;"],
        '\n' => &["\\n"],
        '\r' => &["\\r"],
        '\t' => &["\\t"],
        ' ' => &["+"],
        '&' => &["&amp;"],
        '<' => &["&lt;"],
        '>' => &["&gt;"],
        '\'' => &["&#39;", "&#x27;", "\\'"],
        _ => &[],
    };
    out.extend(
        escaped
            .iter()
            .filter(|e| text.starts_with(**e))
            .map(|e| e.len()),
    );
    // Longest first: a match covers all of an encoded character (`%25`, not just its `%`).
    out.sort_unstable_by(|a, b| b.cmp(a));
    out
}

/// True when `text` starts with `%XX` for each byte, hex digits in either case.
fn percent_matches(text: &str, bytes: &[u8]) -> bool {
    let t = text.as_bytes();
    t.len() >= bytes.len() * 3
        && bytes.iter().enumerate().all(|(i, b)| {
            let h = &t[i * 3..i * 3 + 3];
            h[0] == b'%'
                && std::str::from_utf8(&h[1..])
                    .ok()
                    .and_then(|x| u8::from_str_radix(x, 16).ok())
                    == Some(*b)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn scrub(text: &str, secret: &str) -> String {
        Scrubber::new([secret]).scrub(text)
    }

    #[test]
    fn a_mixed_case_key_url_encoded_with_lower_case_hex_is_removed() {
        let key = "Sk-Live/AbC+dEf=GhIjKlMn";
        assert_eq!(
            scrub("key=Sk-Live%2fAbC%2bdEf%3dGhIjKlMn&x=1", key),
            "key=***&x=1"
        );
        assert_eq!(scrub("key=Sk-Live%2FAbC%2BdEf%3DGhIjKlMn", key), "key=***");
        // Case matters where the key has it: another key is not masked.
        assert_eq!(
            scrub("key=sk-live%2fabc%2bdef%3dghijklmn", key),
            "key=sk-live%2fabc%2bdef%3dghijklmn"
        );
    }

    #[test]
    fn python_quote_keeping_slashes_and_json_escapes_are_removed() {
        let key = "tok/en+with=odd\"chars";
        assert_eq!(scrub("u=tok/en%2Bwith%3Dodd%22chars!", key), "u=***!");
        assert_eq!(
            scrub(r#"{"k":"tok\/en+with=odd\"chars"}"#, key),
            r#"{"k":"***"}"#
        );
        assert_eq!(scrub(r"tok\u002fen+with=odd\u0022chars", key), "***");
        assert_eq!(scrub("tok&#x2F;en+with=odd&quot;chars", key), "***");
    }

    #[test]
    fn a_key_split_across_a_line_break_is_removed() {
        let key = "sk-live-0123456789abcdef";
        assert_eq!(
            scrub("bad key sk-live-01234\r\n  56789abcdef.", key),
            "bad key ***."
        );
        assert_eq!(
            scrub("bad key sk-live-0123456789\nabcdef", key),
            "bad key ***"
        );
    }

    #[test]
    fn base64_of_auth_plain_is_removed() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        for user in ["a", "al", "ali", "alice@example.com"] {
            let echoed = format!("535 5.7.8 bad {}", b64(&format!("\0{user}\0hunter2-pw")));
            let out = scrub(&echoed, "hunter2-pw");
            assert!(out.contains(MASK), "{user}: {out}");
            let rest = out.rsplit(MASK).next().unwrap_or("");
            assert!(rest.len() <= 3, "at most a padding remains: {out}");
        }
    }

    #[test]
    fn a_prefix_at_the_end_is_removed_but_short_ones_and_empty_secrets_are_not() {
        let cut = |text: &str| Scrubber::new(["sk-secret-1"]).cutting_tails().scrub(text);
        assert_eq!(cut("invalid key sk-secr"), "invalid key ***");
        assert_eq!(cut("ends with sk-"), "ends with sk-");
        assert_eq!(cut("k sk-secret-1 and sk-secret"), "k *** and ***");
        assert_eq!(
            scrub("invalid key sk-secr", "sk-secret-1"),
            "invalid key sk-secr"
        );
        assert_eq!(scrub("k", ""), "k");
        assert_eq!(scrub("token abc rejected", "abc"), "token *** rejected");
    }

    #[test]
    fn config_secrets_are_found_by_name_place_and_url_part() {
        let doc = serde_json::json!({
            "projects": [{"name": "p", "api_key": "sk-1234",
                          "base_url": "http://proxyuser:pr%40xy-pass@host:8080/v1?sig=query-sig-1&format=json",
                          "headers": {"X-Token": "header-token-1", "Accept": "*/*"},
                          "url": "/v1/balance?key=path-query-1",
                          "threshold": 10}],
            "smtp": {"password": "smtp-pass"}
        });
        let s = Scrubber::of_config(&doc, ["from-env-var".to_owned(), "993".to_owned()]);
        let text = "sk-1234 proxyuser pr@xy-pass query-sig-1 header-token-1 path-query-1 smtp-pass from-env-var 993 json */* 10";
        assert_eq!(
            s.scrub(text),
            "*** *** *** *** *** *** *** *** 993 json */* 10"
        );
    }

    #[test]
    fn urls_are_shown_without_userinfo_and_query_values() {
        assert_eq!(
            mask_url("http://user:pa55word@proxy:8080/v1?key=abc&flag#frag"),
            "http://***@proxy:8080/v1?key=***&***#frag"
        );
        assert_eq!(
            mask_url("https://api.example.com/v1"),
            "https://api.example.com/v1"
        );
        assert_eq!(mask_url("not a url"), "not a url");
    }

    /// Every encoding the scrubber knows of, applied to `key`.
    fn encodings(key: &str) -> Vec<String> {
        let pct = |keep: &str, lower: bool| -> String {
            key.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric()
                        || b"-._~".contains(&b)
                        || keep.as_bytes().contains(&b)
                    {
                        (b as char).to_string()
                    } else if lower {
                        format!("%{b:02x}")
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect()
        };
        let json = serde_json::to_string(key).expect("json");
        let json = json[1..json.len() - 1].to_owned();
        let mid = key
            .char_indices()
            .nth(key.chars().count() / 2)
            .map_or(0, |(i, _)| i);
        vec![
            key.to_owned(),
            json.replace('/', "\\/"),
            json,
            pct("", false),
            pct("", true),
            pct("/", true),
            format!("{}\r\n {}", &key[..mid], &key[mid..]),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn every_encoding_of_a_random_key_is_removed(key in "[A-Za-z0-9/+=\"\\\\%&:. -]{8,40}") {
            let s = Scrubber::new([key.clone()]);
            for form in encodings(&key) {
                let out = s.scrub(&format!("<<{form}>>"));
                prop_assert_eq!(&out, "<<***>>", "form {:?}", form);
            }
        }
    }
}
