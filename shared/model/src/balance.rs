//! What a provider reports: an amount, its currency and what kind of figure it is.

use md5::{Digest, Md5};
pub use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The kind of figure a provider returns, so a dashboard can label it honestly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BalanceKind {
    /// Money paid in advance and not yet spent.
    PrepaidBalance,
    /// Credits granted or bought, minus usage.
    RemainingCredit,
    /// Budget left against a spending limit.
    BudgetSpend,
    /// What is left of a rate or usage window that resets.
    QuotaWindow,
}

/// One successful balance reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Balance {
    /// The figure in `currency` units, exact as the provider sent it.
    pub amount: Decimal,
    /// ISO 4217 code such as `USD` or `CNY`, or `points` / `percent` for figures that are not
    /// money.
    pub currency: String,
    /// What kind of figure `amount` is.
    pub kind: BalanceKind,
    /// How the figure was arrived at, for people ("spent 40.00 of 100.00 this month").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Computed from a recorded figure rather than read from the provider.
    #[serde(default, skip_serializing_if = "is_false")]
    pub estimate: bool,
    /// When the window this figure belongs to resets (Unix seconds), for `quota_window`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resets_at: Option<i64>,
    /// The key has no spending limit: `amount` is what it used, and no threshold applies.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unlimited: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Balance {
    /// A plain reading: no note, not an estimate, no window, limited.
    pub fn new(amount: Decimal, currency: impl Into<String>, kind: BalanceKind) -> Balance {
        Balance {
            amount,
            currency: currency.into(),
            kind,
            note: None,
            estimate: false,
            resets_at: None,
            unlimited: false,
        }
    }

    /// The same reading with a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Balance {
        self.note = Some(note.into());
        self
    }
}

impl BalanceKind {
    /// Every kind.
    pub const ALL: [BalanceKind; 4] = [
        BalanceKind::PrepaidBalance,
        BalanceKind::RemainingCredit,
        BalanceKind::BudgetSpend,
        BalanceKind::QuotaWindow,
    ];

    /// The snake_case name used on the wire and in config (`prepaid_balance`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            BalanceKind::PrepaidBalance => "prepaid_balance",
            BalanceKind::RemainingCredit => "remaining_credit",
            BalanceKind::BudgetSpend => "budget_spend",
            BalanceKind::QuotaWindow => "quota_window",
        }
    }

    /// Parses [`BalanceKind::as_str`].
    pub fn parse(s: &str) -> Option<BalanceKind> {
        BalanceKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Whether a project needs an alarm ("below threshold"): the one answer that `check --json`,
/// `/api/credits`, `/metrics` (and so the Prometheus rules) give for a project's state and its
/// latest reading.
///
/// The state machine decides: LOW and CRITICAL need one, the recovery margin included (a
/// balance back above the threshold but not yet recovered is still LOW); OK does not; nor does
/// FAILING, whose figure is unknown and which has its own alert. A reading without a limit
/// (`unlimited`: the figure is usage) never needs one, whatever its figure.
pub fn need_alarm(state: crate::AlertState, unlimited: bool) -> bool {
    !unlimited && matches!(state, crate::AlertState::Low | crate::AlertState::Critical)
}

/// An exact amount as the nearest `f64`, for arithmetic that is approximate anyway (the
/// forecast's fit) and for display (the dashboard's figures, charts and sorting). The one
/// conversion: it cannot fail, so no caller picks a fallback (the old copies' `0.0` and `NaN`
/// were never reached). For amounts of up to 15 significant digits it is exactly the decimal
/// text parsed as a float, the dashboard's former conversion.
pub fn to_f64(d: Decimal) -> f64 {
    d.as_f64()
}

/// The Python tool's project id: `md5("provider:name")` as lowercase hex.
///
/// Kept bit-for-bit so history links and API clients written against it keep working.
pub fn project_id(provider: &str, name: &str) -> String {
    let digest = Md5::digest(format!("{provider}:{name}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AlertState;

    #[test]
    fn only_low_and_critical_limited_readings_need_an_alarm() {
        assert!(need_alarm(AlertState::Low, false));
        assert!(need_alarm(AlertState::Critical, false));
        assert!(!need_alarm(AlertState::Ok, false));
        assert!(!need_alarm(AlertState::Failing, false));
        assert!(!need_alarm(AlertState::Low, true), "no threshold applies");
    }

    #[test]
    fn to_f64_is_the_decimal_text_read_as_a_float() {
        for text in [
            "0",
            "182.4",
            "-35.50",
            "0.1",
            "1234567.891",
            "999999999999.999",
        ] {
            let d: Decimal = text.parse().expect("decimal");
            assert_eq!(to_f64(d), text.parse::<f64>().expect("float"), "{text}");
        }
        // Every amount of up to 15 digits at up to 8 decimal places, spread over the range.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..100_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let d = Decimal::new(
                (seed % 1_000_000_000_000_000) as i64,
                (seed >> 60) as u32 % 9,
            );
            assert_eq!(
                to_f64(d),
                d.to_string().parse::<f64>().expect("float"),
                "{d}"
            );
        }
    }

    #[test]
    fn project_id_matches_the_python_tools_md5_of_provider_and_name() {
        // Values computed with Python's hashlib.md5(b"provider:name").hexdigest().
        assert_eq!(
            project_id("openrouter", "Main"),
            "096c001268e49200ab03cb00519c1679"
        );
        assert_eq!(
            project_id("deepseek", "测试"),
            "4061cd1097c64b234f6356a963ad4b1b"
        );
    }
}
