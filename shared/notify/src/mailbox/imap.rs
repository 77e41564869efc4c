//! Reading one mailbox, read-only and bounded: TLS first (implicit TLS when `use_ssl`, else
//! STARTTLS, so the password never crosses the wire in clear), LOGIN, `EXAMINE INBOX` (read-only
//! select), `SEARCH SINCE`, then one FETCH of the newest mails with `BODY.PEEK[]` so no mail is
//! marked `\Seen`. Every network step has its own time limit.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_imap::Client;
use balance_alert_core::config::EmailAccount;
use chrono::DateTime;
use futures::TryStreamExt;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::settings::MailSettings;

/// Bytes read of each mail: enough for the headers and text of a billing notice, never a
/// large attachment.
const MAX_MAIL_BYTES: u32 = 256 * 1024;

/// One mail as fetched.
#[derive(Debug, Clone)]
pub struct RawMail {
    /// The server's INTERNALDATE (when the mail arrived), Unix seconds.
    pub received_at: Option<i64>,
    /// The first [`MAX_MAIL_BYTES`] of the RFC 5322 message.
    pub raw: Vec<u8>,
}

/// Why a mailbox could not be read. The texts never contain the password (server texts are
/// scrubbed by the caller too, in case a server echoes it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// The account's settings cannot work: unreadable `ca_file`, a host that is no valid name.
    #[error("mailbox settings: {0}")]
    Settings(String),
    /// TCP connect failed (DNS, refused, unreachable).
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: String, reason: String },
    /// TLS or STARTTLS failed (untrusted certificate, no STARTTLS offered).
    #[error("TLS with {host} failed: {reason}")]
    Tls { host: String, reason: String },
    /// The server refused the username or password. Its reply is kept for debugging but never
    /// shown: a server may echo the login.
    #[error("login refused: check the account's username and password (the server's reply is not shown)")]
    Login(String),
    /// A step took longer than `timeout_seconds`.
    #[error("{step} timed out after {seconds} s")]
    Timeout { step: &'static str, seconds: u64 },
    /// The server answered a command with an error or something unparsable.
    #[error("IMAP {step} failed: {reason}")]
    Imap { step: &'static str, reason: String },
}

/// Reads the newest mails received in the last `settings.days` days (at most
/// `settings.max_emails`), newest first, without changing any flag.
pub async fn fetch_recent(
    account: &EmailAccount,
    settings: &MailSettings,
    now: i64,
) -> Result<Vec<RawMail>, ScanError> {
    let limit = settings.timeout;
    let stream = connect_tls(account, limit).await?;
    let client = Client::new(stream);
    let login = client.login(&account.username, account.password.expose());
    let mut session = timed("login", limit, login)
        .await?
        .map_err(|(e, _)| match e {
            async_imap::error::Error::No(text) | async_imap::error::Error::Bad(text) => {
                ScanError::Login(text)
            }
            other => imap_error("login", other),
        })?;
    let result = read_inbox(&mut session, settings, now).await;
    // Best effort: the result is known, a slow or failed LOGOUT changes nothing.
    let _ = tokio::time::timeout(limit, session.logout()).await;
    result
}

type Session = async_imap::Session<TlsStream<TcpStream>>;

/// EXAMINE, SEARCH, FETCH.
async fn read_inbox(
    session: &mut Session,
    settings: &MailSettings,
    now: i64,
) -> Result<Vec<RawMail>, ScanError> {
    let limit = settings.timeout;
    timed("EXAMINE", limit, session.examine("INBOX"))
        .await?
        .map_err(|e| imap_error("EXAMINE", e))?;
    let query = format!("SINCE {}", since_date(now, settings.days));
    let found = timed("SEARCH", limit, session.search(&query))
        .await?
        .map_err(|e| imap_error("SEARCH", e))?;
    let mut seqs: Vec<u32> = found.into_iter().collect();
    seqs.sort_unstable_by_key(|s| std::cmp::Reverse(*s));
    seqs.truncate(settings.max_emails as usize);
    if seqs.is_empty() {
        return Ok(Vec::new());
    }
    let set = seqs
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let query = format!("(INTERNALDATE BODY.PEEK[]<0.{MAX_MAIL_BYTES}>)");
    let fetch = async {
        let stream = session.fetch(&set, &query).await?;
        stream.try_collect::<Vec<_>>().await
    };
    let mut fetched = timed("FETCH", limit, fetch)
        .await?
        .map_err(|e| imap_error("FETCH", e))?;
    fetched.sort_unstable_by_key(|f| std::cmp::Reverse(f.message));
    Ok(fetched
        .iter()
        .filter_map(|f| {
            Some(RawMail {
                received_at: f.internal_date().map(|d| d.timestamp()),
                raw: f.body()?.to_vec(),
            })
        })
        .collect())
}

/// The IMAP `SINCE` date (day granularity, server time zone): one day before the window so a
/// time-zone offset never hides a mail; the caller filters exactly on INTERNALDATE.
fn since_date(now: i64, days: u32) -> String {
    let start = now - (i64::from(days) + 1) * 86_400;
    DateTime::from_timestamp(start, 0)
        .unwrap_or_default()
        .format("%d-%b-%Y")
        .to_string()
}

/// TCP connect and TLS: implicit TLS when `use_ssl`, else STARTTLS (refused if the server does
/// not offer it, rather than logging in over plain text).
async fn connect_tls(
    account: &EmailAccount,
    limit: Duration,
) -> Result<TlsStream<TcpStream>, ScanError> {
    let connector = tls_connector(account)?;
    let name = ServerName::try_from(account.host.clone())
        .map_err(|_| ScanError::Settings(format!("{:?} is not a host name", account.host)))?;
    let addr = format!("{}:{}", account.host, account.port);
    let tcp = timed(
        "connect",
        limit,
        TcpStream::connect((account.host.as_str(), account.port)),
    )
    .await?
    .map_err(|e| ScanError::Connect {
        addr: addr.clone(),
        reason: e.to_string(),
    })?;
    let tcp = if account.use_ssl {
        tcp
    } else {
        starttls(tcp, account, limit).await?
    };
    let tls = timed("TLS handshake", limit, connector.connect(name, tcp))
        .await?
        .map_err(|e| tls_error(account, e.to_string()))?;
    if account.use_ssl {
        // After STARTTLS there is no second greeting; with implicit TLS there is one.
        let mut client = Client::new(tls);
        timed("greeting", limit, client.read_response())
            .await?
            .map_err(|e| imap_error("greeting", e.into()))?
            .ok_or_else(|| imap_error("greeting", async_imap::error::Error::ConnectionLost))?;
        return Ok(client.into_inner());
    }
    Ok(tls)
}

/// Reads the plain-text greeting and asks for STARTTLS; returns the stream ready for TLS.
async fn starttls(
    tcp: TcpStream,
    account: &EmailAccount,
    limit: Duration,
) -> Result<TcpStream, ScanError> {
    let mut client = Client::new(tcp);
    timed("greeting", limit, client.read_response())
        .await?
        .map_err(|e| imap_error("greeting", e.into()))?;
    timed(
        "STARTTLS",
        limit,
        client.run_command_and_check_ok("STARTTLS", None),
    )
    .await?
    .map_err(|e| {
        tls_error(
            account,
            format!("STARTTLS refused ({e}); use_ssl: false still requires STARTTLS"),
        )
    })?;
    Ok(client.into_inner())
}

/// Trusts the public web roots plus the account's `ca_file`. Never skips verification.
fn tls_connector(account: &EmailAccount) -> Result<TlsConnector, ScanError> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = &account.ca_file {
        for cert in read_pem(path)? {
            roots
                .add(cert)
                .map_err(|e| ScanError::Settings(format!("ca_file {path}: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ScanError::Settings(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// The certificates of a PEM file (a small local file: read synchronously).
fn read_pem(path: &str) -> Result<Vec<CertificateDer<'static>>, ScanError> {
    let bad = |reason: String| ScanError::Settings(format!("ca_file {path}: {reason}"));
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("contains no PEM certificate".into()));
    }
    Ok(certs)
}

/// Runs one network step under the time limit.
async fn timed<T>(
    step: &'static str,
    limit: Duration,
    fut: impl Future<Output = T>,
) -> Result<T, ScanError> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| ScanError::Timeout {
            step,
            seconds: limit.as_secs(),
        })
}

fn tls_error(account: &EmailAccount, reason: String) -> ScanError {
    ScanError::Tls {
        host: account.host.clone(),
        reason,
    }
}

fn imap_error(step: &'static str, e: async_imap::error::Error) -> ScanError {
    ScanError::Imap {
        step,
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_date_starts_a_day_before_the_window() {
        // 2026-11-26T12:00:00Z, one day back plus one day of slack.
        assert_eq!(since_date(1_795_694_400, 1), "24-Nov-2026");
    }
}
