//! One watched account as configured (`projects[]`): what every part reads of it — the
//! validator builds it, the provider adapters read it, the check scrubs with its secrets.

mod options;

use balance_alert_model::Decimal;

pub use options::{OptionProblem, Options};

use crate::scrub::Scrubber;
use crate::secret::Secret;

/// One account whose balance is watched (`projects[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectConfig {
    /// Unique name (per provider).
    pub name: String,
    /// Grouping label from the Python tool.
    pub owner_project: Option<String>,
    /// Provider adapter name, e.g. `openrouter`.
    pub provider: String,
    /// The provider API key.
    pub api_key: Secret,
    /// Alert below this balance (exact).
    pub threshold: Decimal,
    /// CRITICAL below this balance (must be below `threshold`).
    pub critical_threshold: Option<Decimal>,
    /// The Python tool's `type` (`credits`, `balance`, …), kept for display.
    pub kind: String,
    /// Check this project (default true).
    pub enabled: bool,
    /// Override of the provider's API base URL (proxies, tests).
    pub base_url: Option<String>,
    /// Currency to report when the provider returns several.
    pub currency: Option<String>,
    /// Per-project check interval in seconds, overriding the global one.
    pub check_interval: Option<u64>,
    /// The adapter's own fields (`budget`, `tenant_id`, `window`, …).
    pub options: Options,
    /// Values in this project's fields that came from `${VAR}` or `secretsmanager://`, whatever
    /// the field ([`Scrubber::resolved_within`]): a check scrubs them from what it reports.
    pub resolved: Scrubber,
}

/// A minimal enabled project for unit tests.
#[cfg(test)]
pub(crate) fn test_project() -> ProjectConfig {
    ProjectConfig {
        name: "t".into(),
        owner_project: None,
        provider: "manual".into(),
        api_key: Secret::new(String::new()),
        threshold: Decimal::ZERO,
        critical_threshold: None,
        kind: "credits".into(),
        enabled: true,
        base_url: None,
        currency: None,
        check_interval: None,
        options: Default::default(),
        resolved: Default::default(),
    }
}

impl ProjectConfig {
    /// The secrets a check of this project sends its provider, which may echo them (see
    /// [`Scrubber::for_check`]).
    pub fn scrubber(&self) -> Scrubber {
        let options = serde_json::Value::Object(self.options.fields().clone());
        Scrubber::for_check(
            self.api_key.expose(),
            self.base_url.as_deref(),
            &options,
            &self.resolved,
        )
    }

    /// Those of `resolved` (values from `${VAR}` or `secretsmanager://`) that appear in one of
    /// this project's fields, whatever its name: a check may send them.
    pub(crate) fn resolved_among(&self, resolved: &[String]) -> Scrubber {
        let texts = [self.name.as_str(), self.api_key.expose()]
            .into_iter()
            .chain(self.base_url.as_deref())
            .chain(self.owner_project.as_deref());
        let options = serde_json::Value::Object(self.options.fields().clone());
        Scrubber::resolved_within(resolved, texts, &options)
    }

    /// The Python tool's id for this project: md5("provider:name").
    pub fn id(&self) -> String {
        balance_alert_model::project_id(&self.provider, &self.name)
    }

    /// A digest of what a check of this project reads and judges by: its key, thresholds,
    /// base URL, currency, interval and adapter options. Recorded with each check's schedule,
    /// so a configuration that changes it makes the project due at once, in any process
    /// ([`crate::check`]). Display-only fields (`type`, `owner_project`) are left out; `name`
    /// and `provider` make the project's id. A one-way digest: the key cannot be read back.
    pub fn check_fingerprint(&self) -> String {
        let amount = |d: Option<Decimal>| d.map(|d| d.normalize().to_string());
        let parts = serde_json::json!([
            self.api_key.expose(),
            amount(Some(self.threshold)),
            amount(self.critical_threshold),
            self.base_url,
            self.currency,
            self.check_interval,
            self.options.fingerprint(),
        ]);
        use sha2::Digest;
        // The same digest as `config::content_hash` (hex SHA-256), shortened.
        hex::encode(sha2::Sha256::digest(parts.to_string().as_bytes()))[..32].to_owned()
    }
}
