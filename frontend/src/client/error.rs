//! A failed call as the dashboard holds it: the status, the API's [`ErrorBody`] message and
//! `retry_after`, and the text a reader sees. Pure, so the error parsing is tested on the host.

use balance_alert_model::wire::ErrorBody;

use crate::i18n::{fill, t, Lang, K};

/// A failed call.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiErr {
    /// HTTP status; 0 when the API could not be reached at all.
    pub status: u16,
    /// The API's message, or the URL that could not be reached.
    pub message: String,
    /// Seconds to wait (429 answers).
    pub retry_after: Option<u64>,
}

impl ApiErr {
    /// An answer with a non-2xx `status`: the message and wait of its [`ErrorBody`], or the
    /// status line's text when the body is not one (a proxy's HTML page, an empty body).
    pub fn from_answer(status: u16, status_text: &str, body: &str) -> ApiErr {
        match serde_json::from_str::<ErrorBody>(body) {
            Ok(body) => ApiErr {
                status,
                message: body.message,
                retry_after: body.retry_after,
            },
            Err(_) => ApiErr {
                status,
                message: status_text.to_owned(),
                retry_after: None,
            },
        }
    }

    /// `url` could not be reached (or its body not read).
    pub fn unreachable(url: &str) -> ApiErr {
        ApiErr {
            status: 0,
            message: url.to_owned(),
            retry_after: None,
        }
    }

    /// A 2xx body that is not the expected type.
    pub fn unexpected(why: impl std::fmt::Display) -> ApiErr {
        ApiErr {
            status: 200,
            message: format!("unexpected response: {why}"),
            retry_after: None,
        }
    }

    /// What the reader sees.
    pub fn text(&self, lang: Lang) -> String {
        match self.status {
            0 => fill(t(lang, K::err_network), &[&self.message]),
            401 => t(lang, K::err_unauthorized).to_owned(),
            s => fill(t(lang, K::err_http), &[&s.to_string(), &self.message]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_body_gives_the_message_and_the_wait() {
        let e = ApiErr::from_answer(
            429,
            "Too Many Requests",
            r#"{"status":"error","message":"refresh is cooling down: try again in 42 s","retry_after":42}"#,
        );
        assert_eq!(
            e,
            ApiErr {
                status: 429,
                message: "refresh is cooling down: try again in 42 s".into(),
                retry_after: Some(42),
            }
        );
        let gateway = ApiErr::from_answer(429, "Too Many Requests", r#"{"message":"Slow down"}"#);
        assert_eq!(gateway.message, "Slow down");
        assert_eq!(gateway.retry_after, None);
    }

    #[test]
    fn any_other_body_gives_the_status_text() {
        let e = ApiErr::from_answer(502, "Bad Gateway", "<html>bad gateway</html>");
        assert_eq!((e.message.as_str(), e.retry_after), ("Bad Gateway", None));
        assert_eq!(
            e.text(Lang::En),
            fill(t(Lang::En, K::err_http), &["502", "Bad Gateway"])
        );
        assert_eq!(
            ApiErr::unreachable("http://x/api").text(Lang::En),
            fill(t(Lang::En, K::err_network), &["http://x/api"])
        );
    }
}
