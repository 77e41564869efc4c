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
    /// ISO 4217 code such as `USD` or `CNY`.
    pub currency: String,
    /// What kind of figure `amount` is.
    pub kind: BalanceKind,
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
