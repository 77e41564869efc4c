//! SMTP email (lettre over rustls): one multipart/alternative mail, plain text and HTML, to
//! every configured recipient. STARTTLS, implicit TLS or none per `smtp.security`; login
//! when a username is set. A 5xx answer (535: bad login) is fatal, 4xx and connection
//! trouble are worth a retry.

use std::time::Duration;

use async_trait::async_trait;
use balance_alert_core::config::channels::{ChannelConfig, SmtpSecurity, SmtpSettings};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::http::Redact;
use crate::channel::{Channel, SendError};
use crate::message::{escape_html, Message};

/// How long one SMTP command may take.
const TIMEOUT: Duration = Duration::from_secs(20);

pub(crate) struct Email {
    name: String,
    from: Mailbox,
    to: Vec<Mailbox>,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    redact: Redact,
}

impl Email {
    pub(crate) fn new(
        config: &ChannelConfig,
        smtp: Option<&SmtpSettings>,
    ) -> Result<Email, String> {
        let smtp = smtp.ok_or("email channel has no smtp settings")?;
        let from: Mailbox = smtp
            .from
            .parse()
            .map_err(|e| format!("smtp.from is not an address: {e}"))?;
        let to = smtp
            .to
            .iter()
            .map(|t| {
                t.parse()
                    .map_err(|e| format!("smtp.to {t:?} is not an address: {e}"))
            })
            .collect::<Result<Vec<Mailbox>, String>>()?;
        if to.is_empty() {
            return Err("email channel has no recipients (smtp.to)".to_owned());
        }
        let secrets = smtp.password.as_ref().map(|p| p.expose());
        Ok(Email {
            name: config.name.clone(),
            from,
            to,
            transport: transport(smtp)?,
            redact: Redact::new(secrets),
        })
    }

    /// The mail for `message`: subject = title, text and HTML alternatives, a Message-ID
    /// derived from the message key (the same delivery retried keeps its id).
    fn mail(&self, message: &Message) -> Result<lettre::Message, SendError> {
        let mut builder = lettre::Message::builder()
            .from(self.from.clone())
            .subject(message.title.clone())
            .message_id(Some(message_id(&message.key, &self.from)));
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                message.plain(),
                html(message),
            ))
            .map_err(|e| SendError::Fatal {
                reason: format!("mail could not be built: {e}"),
            })
    }
}

#[async_trait]
impl Channel for Email {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let mail = self.mail(message)?;
        match self.transport.send(mail).await {
            Ok(_) => Ok(()),
            Err(e) => Err(classify(&e, &self.redact)),
        }
    }
}

/// The SMTP transport for the settings: its security mode, port, timeout and login.
fn transport(smtp: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let host = smtp.host.trim();
    let tls_error = |e: lettre::transport::smtp::Error| format!("smtp TLS setup failed: {e}");
    let builder = match smtp.security {
        SmtpSecurity::StartTls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(tls_error)?
        }
        SmtpSecurity::Tls => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(tls_error)?
        }
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
    };
    let mut builder = builder.port(smtp.port).timeout(Some(TIMEOUT));
    if let Some(user) = smtp.username.as_ref().filter(|u| !u.is_empty()) {
        let password = smtp.password.as_ref().map(|p| p.expose().to_owned());
        builder = builder.credentials(Credentials::new(user.clone(), password.unwrap_or_default()));
    }
    Ok(builder.build())
}

/// 5xx (535 bad login, 550 no such mailbox), client-side refusals and TLS failures (a wrong
/// security mode or certificate) are fatal; 4xx, timeouts and connection errors are not.
fn classify(err: &lettre::transport::smtp::Error, redact: &Redact) -> SendError {
    let reason = match auth_failure(err) {
        Some(code) => format!(
            "smtp: authentication failed ({code}): check smtp.username and smtp.password (the server's reply is not shown: it may echo the login)"
        ),
        None => redact.clean(&format!("smtp: {err}")),
    };
    if err.is_permanent() || err.is_client() || err.is_tls() {
        SendError::Fatal { reason }
    } else {
        SendError::Retry {
            reason,
            after: None,
        }
    }
}

/// The reply code of a refused login (RFC 4954: 530, 534, 535, 538, 432, 454). Such a
/// reply is summarised, never shown: servers echo the `AUTH PLAIN` line (base64 of
/// `\0user\0password`) in it.
fn auth_failure(err: &lettre::transport::smtp::Error) -> Option<String> {
    let code = err.status()?.to_string();
    ["530", "534", "535", "538", "432", "454"]
        .contains(&code.as_str())
        .then_some(code)
}

/// `<key@sender-domain>` with the key's characters outside RFC 5322 `atext` replaced.
fn message_id(key: &str, from: &Mailbox) -> String {
    let local: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.+=".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let local = local.trim_matches('.');
    format!("<{local}@{}>", from.email.domain())
}

/// A small HTML document: coloured title, the body, the source.
fn html(message: &Message) -> String {
    format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">\
         <h2 style=\"color:{}\">{}</h2><p>{}</p>\
         <p style=\"color:#80868b;font-size:12px\">{}</p></body></html>",
        message.tone.hex(),
        escape_html(&message.title),
        message.html_body().replace('\n', "<br>\n"),
        escape_html(&message.source),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_valid_atoms_at_the_sender_domain() {
        let from: Mailbox = "Alerts <alerts@example.com>"
            .parse()
            .expect("valid address");
        assert_eq!(
            message_id("p1-100-2:运维", &from),
            "<p1-100-2---@example.com>"
        );
    }
}
