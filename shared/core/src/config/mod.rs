//! Configuration: the Python tool's `config.json` (loaded unchanged), `${VAR}` placeholders,
//! env-only mode (`USE_ENV_CONFIG=true`) and validation that reports every problem at once.
//!
//! Loading goes: raw JSON → env overrides → placeholder expansion → [`validate`] into typed
//! structs. The raw, unexpanded document is kept so edits can be written back without losing
//! placeholders or fields we do not know.

pub mod channels;
pub mod delivery;
pub mod edit;
mod entries;
mod env;
mod fields;
mod live;
pub mod refs;
pub mod settings;
mod source;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};

use balance_alert_model::subscription::Cycle;
use balance_alert_model::Decimal;
use chrono::NaiveDate;
use serde_json::Value;

pub use env::{env_config, expand_placeholders, EnvLookup};

pub use crate::project::ProjectConfig;
use crate::scrub::Scrubber;
pub use crate::secret::Secret;
pub use crate::timezone::TimeZone;
pub use live::LiveConfig;
pub use settings::Settings;
pub use source::{push_document, ConfigSource, Edit, StoreConfig, StoreConfigError};
pub use validate::validate;

/// Where alerts go (`webhook`): the Python tool's single webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// Full URL; secret because chat webhooks carry their token in it.
    pub url: Secret,
    /// `feishu`, `dingtalk`, `wecom`, `slack`, `discord`, `telegram` or `custom`.
    pub kind: String,
    /// Sender label shown in messages (default `balance-alert`).
    pub source: String,
}

/// One IMAP mailbox to scan (`email[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct EmailAccount {
    /// Display name.
    pub name: String,
    /// IMAP host.
    pub host: String,
    /// IMAP port (default 993).
    pub port: u16,
    /// Login name.
    pub username: String,
    /// Password or app token.
    pub password: Secret,
    /// Use TLS (default true).
    pub use_ssl: bool,
    /// Scan this mailbox (default true).
    pub enabled: bool,
    /// PEM file of extra certificates to trust for this server (a self-signed or private CA);
    /// the public web roots are trusted either way.
    pub ca_file: Option<String>,
}

/// One recurring payment to be reminded of (`subscriptions[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionConfig {
    /// Unique name.
    pub name: String,
    /// The renewal cycle, built from `cycle_type` and `renewal_day`.
    pub cycle: Cycle,
    /// `cycle_type` as written.
    pub cycle_type: String,
    /// `renewal_day` as written.
    pub renewal_day: u32,
    /// Remind this many days before (default 3).
    pub alert_days_before: i64,
    /// Amount per renewal (exact).
    pub amount: Decimal,
    /// Currency of `amount` (default CNY, as in the Python tool).
    pub currency: String,
    /// Last renewal; suppresses the reminder within the current cycle.
    pub last_renewed_date: Option<NaiveDate>,
    /// Remind for this subscription (default true).
    pub enabled: bool,
    /// Grouping label, as for projects.
    pub owner_project: Option<String>,
}

/// The whole, validated configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    pub settings: Settings,
    pub webhook: Option<Webhook>,
    pub email: Vec<EmailAccount>,
    /// `email_settings` as written; interpreted by the mailbox scanner.
    pub email_settings: Option<Value>,
    /// Receivers (`channels[]`); see [`Config::delivery_channels`] for the full list.
    pub channels: Vec<channels::ChannelConfig>,
    /// Which alerts go to which channels (`routes[]`).
    pub routes: Vec<delivery::Route>,
    pub subscriptions: Vec<SubscriptionConfig>,
    pub projects: Vec<ProjectConfig>,
    /// Every secret of the configuration (values from `${VAR}` and `secretsmanager://`, fields
    /// named like a secret, header values, URL userinfo and query values), gathered where it
    /// is parsed: scrub text with it before it leaves the process.
    pub secrets: crate::scrub::Scrubber,
}

/// Why a project reference did not name exactly one project.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// Nothing matches.
    #[error("no project {reference:?}; known: {}", .known.join(", "))]
    NotFound {
        reference: String,
        /// `provider:name` of every configured project.
        known: Vec<String>,
    },
    /// A bare name that several providers' projects share.
    #[error("{reference:?} names {} projects: use one of {}", .candidates.len(), .candidates.join(", "))]
    Ambiguous {
        reference: String,
        /// `provider:name` of each match.
        candidates: Vec<String>,
    },
}

impl Config {
    /// No enabled project, no enabled subscription and no mailbox: a run would check nothing.
    pub fn watches_nothing(&self) -> bool {
        !self.projects.iter().any(|p| p.enabled)
            && !self.subscriptions.iter().any(|s| s.enabled)
            && self.email.is_empty()
    }

    /// Every enabled receiver: `channels[]`, plus the Python tool's `webhook` as a channel
    /// named `webhook`.
    pub fn delivery_channels(&self) -> Vec<channels::ChannelConfig> {
        self.webhook
            .iter()
            .map(channels::legacy_channel)
            .chain(self.channels.iter().cloned())
            .filter(|c| c.enabled)
            .collect()
    }

    /// Finds the project a reference names: its id (md5 of `provider:name`), `provider:name`,
    /// or a bare name that only one project has. A bare name shared by projects of several
    /// providers is [`LookupError::Ambiguous`], never a guess.
    pub fn find_project(&self, reference: &str) -> Result<&ProjectConfig, LookupError> {
        let wanted = reference.trim();
        let lower = wanted.to_ascii_lowercase();
        let qualified = |p: &ProjectConfig| format!("{}:{}", p.provider, p.name);
        // Exact identities first: an id or `provider:name` names one project by construction.
        if let Some(p) = self
            .projects
            .iter()
            .find(|p| p.id() == lower || qualified(p) == wanted)
        {
            return Ok(p);
        }
        let by_name: Vec<&ProjectConfig> =
            self.projects.iter().filter(|p| p.name == wanted).collect();
        match by_name.as_slice() {
            [one] => Ok(one),
            [] => Err(LookupError::NotFound {
                reference: reference.to_owned(),
                known: self.projects.iter().map(qualified).collect(),
            }),
            many => Err(LookupError::Ambiguous {
                reference: reference.to_owned(),
                candidates: many.iter().map(|p| qualified(p)).collect(),
            }),
        }
    }
}

/// One problem found while validating, named by its path and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `projects[3].threshold`, or the env var name in env mode.
    pub path: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Largest config file read: a runaway file must not become a memory spike.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file is larger than [`MAX_CONFIG_BYTES`].
    #[error("config file {path} is {size} bytes; the limit is {limit} bytes (1 MiB): remove unused entries or split history out of it")]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not valid JSON.
    #[error("config file {path} is not valid JSON at line {line}, column {column}: {message}")]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// The JSON is valid but some values are not.
    #[error("config has {} problem(s):\n{}", .0.len(), problems_list(.0))]
    Invalid(Vec<Problem>),
}

/// `problems` without the config's secrets: a validation message may quote a value.
fn scrubbed(problems: Vec<Problem>, secrets: &Scrubber) -> Vec<Problem> {
    problems
        .into_iter()
        .map(|p| Problem {
            path: secrets.scrub(&p.path),
            message: secrets.scrub(&p.message),
        })
        .collect()
}

fn problems_list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// How the configuration was sourced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `USE_ENV_CONFIG=true`: everything from environment variables.
    Env,
    /// The default: config.json, with environment overrides and `${VAR}` placeholders.
    Hybrid,
}

/// Why `loaded` watches nothing, with the likely cause and the fix (None when it watches
/// something): `check` and `config validate` exit 2 with it rather than report "0 projects".
pub fn nothing_to_watch(loaded: &Loaded, env: &(impl EnvLookup + ?Sized)) -> Option<String> {
    if !loaded.config.watches_nothing() {
        return None;
    }
    let gaps = env::numbering_gaps(env);
    let cause = match (&loaded.mode, gaps.first()) {
        (_, Some(gap)) => format!("{}: {}", gap.path, gap.message),
        (Mode::Env, None) => "USE_ENV_CONFIG=true but no PROJECT_1_NAME, SUBSCRIPTION_1_NAME or \
            EMAIL_1_USERNAME is set: define PROJECT_1_NAME, PROJECT_1_PROVIDER and \
            PROJECT_1_API_KEY (numbering starts at 1)"
            .to_owned(),
        (Mode::Hybrid, None) => format!(
            "{} has no enabled project, subscription or mailbox: add one to \"projects\" \
             (or set \"enabled\": true on one)",
            loaded
                .path
                .as_ref()
                .map_or_else(|| "the config".to_owned(), |p| p.display().to_string())
        ),
    };
    Some(format!("nothing to watch: {cause}"))
}

/// A loaded configuration plus what is needed to edit and re-save it.
///
/// `Debug` leaves out `raw`: the file as written may hold literal keys.
#[derive(Clone)]
pub struct Loaded {
    pub config: Config,
    pub mode: Mode,
    /// The config file, when one was read.
    pub path: Option<PathBuf>,
    /// The file as written (placeholders unexpanded), for write-back.
    pub raw: Option<Value>,
    /// Things that do not stop loading but deserve a look (unknown providers, unset
    /// placeholders in disabled entries).
    pub warnings: Vec<Problem>,
    /// SHA-256 (hex) of the file's bytes as loaded; None in env-only mode.
    pub content_hash: Option<String>,
}

impl fmt::Debug for Loaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loaded")
            .field("config", &self.config)
            .field("mode", &self.mode)
            .field("path", &self.path)
            .field(
                "raw",
                &self.raw.as_ref().map(|_| "<file as written, not shown>"),
            )
            .field("warnings", &self.warnings)
            .field("content_hash", &self.content_hash)
            .finish()
    }
}

/// The process environment as an [`EnvLookup`].
pub fn process_env() -> impl EnvLookup + Send + Sync + 'static {
    |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// Loads the configuration the way the Python tool does: env-only when `USE_ENV_CONFIG=true`,
/// else `path` with env overrides; a missing file falls back to the environment.
pub fn load(path: &Path, env: &(impl EnvLookup + ?Sized)) -> Result<Loaded, ConfigError> {
    let use_env = env
        .get("USE_ENV_CONFIG")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    // Like the Python tool, a missing file falls back to the environment — but only when the
    // environment does define projects; otherwise a mistyped path would silently check nothing.
    if !use_env && !path.exists() && env.get("PROJECT_1_NAME").is_none() {
        return Err(ConfigError::Io {
            path: path.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "file not found (and no PROJECT_1_NAME in the environment to fall back to)",
            ),
        });
    }
    if use_env || !path.exists() {
        let value = env_config(env);
        let secrets = Scrubber::of_config(&value, []);
        let mut warnings = scrubbed(env::numbering_gaps(env), &secrets);
        let mut config = validate(&value, &mut warnings).map_err(|problems| {
            ConfigError::Invalid(scrubbed(env::rename_to_env(problems), &secrets))
        })?;
        config.secrets = secrets;
        return Ok(Loaded {
            config,
            mode: Mode::Env,
            path: None,
            raw: None,
            warnings,
            content_hash: None,
        });
    }
    let text = read_capped(path)?;
    load_text(path, &text, env)
}

/// Reads a config file of at most [`MAX_CONFIG_BYTES`] (a file that grows while being read
/// is caught too).
pub fn read_capped(path: &Path) -> Result<String, ConfigError> {
    use std::io::Read;
    let io = |source| ConfigError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        let size = std::fs::metadata(path).map_or(bytes.len() as u64, |m| m.len());
        return Err(ConfigError::TooLarge {
            path: path.to_owned(),
            size,
            limit: MAX_CONFIG_BYTES,
        });
    }
    String::from_utf8(bytes).map_err(|e| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 text ({e})"),
        ))
    })
}

/// SHA-256 of config text, as hex.
pub fn content_hash(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// Parses the text of the file at `path` (hybrid mode), naming the path in errors.
pub fn load_text(
    path: &Path,
    text: &str,
    env: &(impl EnvLookup + ?Sized),
) -> Result<Loaded, ConfigError> {
    let mut loaded = parse(text, env).map_err(|e| match e {
        ConfigError::Json {
            line,
            column,
            message,
            ..
        } => ConfigError::Json {
            path: path.to_owned(),
            line,
            column,
            message,
        },
        other => other,
    })?;
    loaded.path = Some(path.to_owned());
    loaded.content_hash = Some(content_hash(text));
    Ok(loaded)
}

/// Parses config.json text (hybrid mode) without touching the file system. Secret
/// references (`secretsmanager://…`) are not resolved here: each is a warning and a stand-in.
pub fn parse(text: &str, env: &(impl EnvLookup + ?Sized)) -> Result<Loaded, ConfigError> {
    parse_with(text, env, None)
}

/// [`parse`], with secret references substituted from `secrets` (a failed one is a problem
/// naming its path).
pub fn parse_with(
    text: &str,
    env: &(impl EnvLookup + ?Sized),
    secrets: Option<&refs::Resolved>,
) -> Result<Loaded, ConfigError> {
    let raw: Value = serde_json::from_str(text).map_err(|e| ConfigError::Json {
        path: PathBuf::new(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let mut value = raw.clone();
    env::apply_overrides(&mut value, env);
    let mut problems = Vec::new();
    let mut warnings = env::key_collisions(&value);
    warnings.extend(env::numbering_gaps(env));
    let mut resolved = expand_placeholders(&mut value, env, &mut problems, &mut warnings);
    let mode = match secrets {
        Some(values) => {
            resolved.extend(refs::resolved_values(values));
            refs::Mode::Resolved(values)
        }
        None => refs::Mode::Deferred,
    };
    refs::substitute(&mut value, &mode, "", &mut problems, &mut warnings);
    let secrets = Scrubber::of_config(&value, resolved.iter().cloned());
    let mut config = match validate(&value, &mut warnings) {
        Ok(c) if problems.is_empty() => c,
        Ok(_) => return Err(ConfigError::Invalid(scrubbed(problems, &secrets))),
        Err(more) => {
            // A field whose placeholder is unset is reported once, by the placeholder problem:
            // its stand-in empty value failing validation says nothing new.
            let unset: Vec<String> = problems.iter().map(|p| p.path.clone()).collect();
            problems.extend(more.into_iter().filter(|p| !unset.contains(&p.path)));
            let problems = env::name_settings_overrides(problems, env);
            return Err(ConfigError::Invalid(scrubbed(problems, &secrets)));
        }
    };
    let warnings = scrubbed(warnings, &secrets);
    config.secrets = secrets;
    for project in &mut config.projects {
        project.resolved = project.resolved_among(&resolved);
    }
    Ok(Loaded {
        config,
        mode: Mode::Hybrid,
        path: None,
        raw: Some(raw),
        warnings,
        content_hash: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_fingerprint_follows_what_a_check_reads_not_how_it_is_shown() {
        let base = crate::project::test_project();
        let same = |p: ProjectConfig| p.check_fingerprint() == base.check_fingerprint();
        assert!(same(ProjectConfig {
            kind: "balance".into(),
            owner_project: Some("team".into()),
            ..base.clone()
        }));
        assert!(
            same(ProjectConfig {
                threshold: Decimal::new(0, 2),
                ..base.clone()
            }),
            "0 and 0.00 are one threshold"
        );
        assert!(!same(ProjectConfig {
            threshold: Decimal::new(25, 0),
            ..base.clone()
        }));
        assert!(!same(ProjectConfig {
            critical_threshold: Some(Decimal::ZERO),
            ..base.clone()
        }));
        assert!(!same(ProjectConfig {
            api_key: Secret::new("sk-new"),
            ..base.clone()
        }));
        assert!(!same(ProjectConfig {
            base_url: Some("http://127.0.0.1:1".into()),
            ..base.clone()
        }));
        let fingerprint = base.check_fingerprint();
        assert_eq!(fingerprint.len(), 32);
        assert!(!fingerprint.contains("sk-"));
    }

    #[test]
    fn validation_messages_and_warnings_never_quote_a_secret() {
        let env: std::collections::HashMap<String, String> = [
            ("PROXY_PASS", "proxy-pa55word"),
            ("QUERY_TOKEN", "query-token-value"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let text = r#"{"projects": [{"name": "p", "provider": "http_json", "api_key": "k",
            "threshold": 1, "base_url": "ftp://user:${PROXY_PASS}@proxy:8080",
            "url": "ftp://api.example.com/v1?token=${QUERY_TOKEN}", "value_pointer": "/b"}]}"#;
        let Err(e) = parse(text, &env) else {
            panic!("an ftp:// base_url is refused")
        };
        let message = e.to_string();
        assert!(message.contains("base_url"), "{message}");
        for secret in ["proxy-pa55word", "query-token-value"] {
            assert!(!message.contains(secret), "{message}");
        }
        let ok = parse(&text.replace("ftp://", "https://"), &env).expect("loads");
        assert_eq!(
            ok.config
                .secrets
                .scrub("p proxy-pa55word query-token-value"),
            "p *** ***"
        );
    }

    #[test]
    fn a_placeholder_in_any_field_is_a_secret_of_the_project_using_it() {
        let env: std::collections::HashMap<String, String> =
            [("ACCOUNT", "acct-7f3e9d"), ("OTHER", "other-51c2aa")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        let text = r#"{"projects": [
            {"name": "a", "provider": "http_json", "api_key": "", "threshold": 1,
             "url": "https://x.example/v1", "value_pointer": "/b",
             "body": {"account": "${ACCOUNT}", "port": "${PORT:-8080}"}},
            {"name": "b", "provider": "manual", "api_key": "", "threshold": 1, "balance": 5,
             "balance_date": "2026-11-20", "note": "${OTHER}"}]}"#;
        let loaded = parse(text, &env).expect("loads");
        let [a, b] = &loaded.config.projects[..] else {
            panic!("two projects")
        };
        let echo = "acct-7f3e9d other-51c2aa 8080";
        // Its own value only; a short default (a port) is no secret.
        assert_eq!(a.scrubber().scrub(echo), "*** other-51c2aa 8080");
        assert_eq!(b.scrubber().scrub(echo), "acct-7f3e9d *** 8080");
    }

    #[test]
    fn values_of_secret_references_are_secrets_whatever_their_field() {
        let text = r#"{"projects": [{"name": "p", "provider": "manual", "api_key": "",
            "threshold": 1, "balance": 5, "balance_date": "2026-11-20",
            "note_id": "secretsmanager://acct"}]}"#;
        let mut resolved = refs::Resolved::new();
        resolved.insert(
            "secretsmanager://acct".into(),
            Ok("acct-7788-secret-id".into()),
        );
        let loaded = parse_with(
            text,
            &std::collections::HashMap::<String, String>::new(),
            Some(&resolved),
        )
        .expect("loads");
        assert_eq!(
            loaded.config.secrets.scrub("id acct-7788-secret-id"),
            "id ***"
        );
    }
}
