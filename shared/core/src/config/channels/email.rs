//! An `email` channel's options: the SMTP server, login, security and addresses, each a flat
//! field of the entry (`smtp_host`, `smtp_port`, `smtp_security`, `smtp_user`, `smtp_password`,
//! `allow_plaintext`, `from`, `to`).

use super::secret;
use crate::config::delivery::strings;
use crate::config::fields::Fields;
use crate::config::Secret;

/// How SMTP connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on localhost or a test server.
    None,
}

/// SMTP settings of an `email` channel.
#[derive(Debug, Clone, PartialEq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub security: SmtpSecurity,
    /// The sender address.
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
}

impl SmtpSettings {
    /// The fields an `email` entry reads.
    pub(super) const FIELDS: &'static [&'static str] = &[
        "smtp_host",
        "smtp_security",
        "smtp_port",
        "smtp_user",
        "smtp_password",
        "allow_plaintext",
        "from",
        "to",
    ];
}

/// `localhost`, `*.localhost` or a loopback address (the only places a plaintext login stays on
/// this machine).
fn is_loopback_host(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.to_ascii_lowercase().ends_with(".localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Reads an enabled `email` entry's SMTP fields (None when it has no host).
pub(super) fn smtp(f: &mut Fields<'_>) -> Option<SmtpSettings> {
    let host = f.required_string("smtp_host", "the SMTP server, e.g. smtp.gmail.com");
    let security = match f.string("smtp_security").map(|s| s.to_ascii_lowercase()) {
        None => None,
        Some(s) => match s.as_str() {
            "starttls" => Some(SmtpSecurity::StartTls),
            "tls" | "ssl" => Some(SmtpSecurity::Tls),
            "none" | "plain" => Some(SmtpSecurity::None),
            _ => {
                f.problem(
                    "smtp_security",
                    format!("must be starttls, tls or none, got {s:?}"),
                );
                None
            }
        },
    };
    let port = f.integer("smtp_port", 1, 65_535).map(|p| p as u16);
    let security = security.unwrap_or(match port {
        Some(465) => SmtpSecurity::Tls,
        _ => SmtpSecurity::StartTls,
    });
    let port = port.unwrap_or(match security {
        SmtpSecurity::Tls => 465,
        SmtpSecurity::StartTls => 587,
        SmtpSecurity::None => 25,
    });
    let username = f.string("smtp_user").filter(|s| !s.is_empty());
    let password = secret(f, "smtp_password");
    // A login over an unencrypted connection crosses the network readable by anyone on the
    // path: only to this machine, or when the config says so explicitly.
    let allow_plaintext = f.boolean("allow_plaintext").unwrap_or(false);
    if security == SmtpSecurity::None
        && (username.is_some() || password.is_some())
        && !is_loopback_host(&host)
    {
        if allow_plaintext {
            tracing::warn!(
                host = %host,
                "smtp_security none with allow_plaintext: the SMTP login goes to this host unencrypted"
            );
        } else {
            f.problem(
                "smtp_security",
                format!("none would send the SMTP login (smtp_user, smtp_password) unencrypted to {host:?}: use starttls or tls, or set \"allow_plaintext\": true if every network hop to it is trusted"),
            );
        }
    }
    let from = f
        .string("from")
        .filter(|s| !s.is_empty())
        .or_else(|| username.clone());
    let from = match from {
        Some(a) if a.contains('@') => a,
        Some(a) => {
            f.problem("from", format!("must be an email address, got {a:?}"));
            String::new()
        }
        None => {
            f.problem("from", "is required: the sender address".into());
            String::new()
        }
    };
    let to = strings(f, "to").unwrap_or_default();
    if to.is_empty() {
        f.problem("to", "is required: one recipient address or a list".into());
    }
    for a in &to {
        if !a.contains('@') {
            f.problem("to", format!("{a:?} is not an email address"));
        }
    }
    (!host.is_empty()).then_some(SmtpSettings {
        host,
        port,
        username,
        password,
        security,
        from,
        to,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::channel;

    #[test]
    fn an_smtp_login_in_clear_to_another_host_is_refused_unless_allowed() {
        let email = |host: &str, extra: Value| {
            let mut c = json!({"name": "mail", "type": "email", "smtp_host": host,
                "smtp_security": "none", "smtp_user": "ops@example.com",
                "smtp_password": "pw-123456", "to": "ops@example.com", "from": "ops@example.com"});
            for (k, v) in extra.as_object().expect("object") {
                c[k] = v.clone();
            }
            let mut problems = Vec::new();
            let parsed = channel(
                "channels[0]".into(),
                c.as_object().expect("object"),
                &mut problems,
            );
            (parsed.is_some(), problems)
        };
        let (_, problems) = email("smtp.example.com", json!({}));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].path, "channels[0].smtp_security");
        assert!(
            problems[0].message.contains("allow_plaintext")
                && !problems[0].message.contains("pw-123456")
        );
        for ok in [
            email("smtp.example.com", json!({"allow_plaintext": true})),
            email("127.0.0.1", json!({})),
            email("localhost", json!({})),
            email("smtp.example.com", json!({"smtp_security": "starttls"})),
            email(
                "smtp.example.com",
                json!({"smtp_user": "", "smtp_password": ""}),
            ),
        ] {
            assert_eq!(ok, (true, Vec::new()));
        }
    }
}
