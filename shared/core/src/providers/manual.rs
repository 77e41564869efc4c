//! Manual: for Groq, Together, Fireworks and anything else without a balance API. The user
//! records a figure and its date (`balance`, `balance_date` in the project, or `POST
//! /api/projects/{id}/balance`, which writes both) and how it is spent: a `daily_spend`, or a
//! `spend_source` (`openai` or `anthropic`: that organization's cost report since the
//! recorded date, read with the project's `api_key` as the Admin key, `spend_base_url` to
//! override where). The reading is the recorded figure minus the spend since, marked as an
//! estimate; recording a new real figure re-bases it. Option `kind` (default
//! `prepaid_balance`).

use balance_alert_model::{Balance, BalanceKind, Decimal};
use chrono::{DateTime, NaiveDate, Utc};

use super::{balance, Http, OptionProblem, Options, Provider, ProviderError, ReadRequest};
use crate::project::ProjectConfig;
use crate::timezone::TimeZone;

pub struct Manual;

/// `balance_date` as a date (midnight in the configured zone) or an RFC 3339 time.
pub fn recorded_at(options: &Options, tz: TimeZone) -> Option<DateTime<Utc>> {
    let s = options.str("balance_date")?;
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.to_utc())
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| tz.to_utc(t))
        })
}

#[async_trait::async_trait]
impl Provider for Manual {
    fn name(&self) -> &'static str {
        "manual"
    }

    fn default_base_url(&self) -> &'static str {
        ""
    }

    fn kind(&self, p: &ProjectConfig) -> BalanceKind {
        p.options.kind()
    }

    fn needs_key(&self) -> bool {
        false
    }

    fn check_options(&self, p: &ProjectConfig) -> Vec<OptionProblem> {
        let o = &p.options;
        let mut out = Vec::new();
        match (o.get("balance"), o.decimal("balance")) {
            (None, _) => out.push(OptionProblem::new(
                "balance",
                "is required for a manual project: the balance you last saw, e.g. 25.50",
            )),
            (Some(_), Some(d)) if d.abs() <= crate::money::MAX_AMOUNT => {}
            (Some(v), _) => out.push(OptionProblem::new(
                "balance",
                format!("must be a number, got {v}"),
            )),
        }
        if recorded_at(o, TimeZone::default()).is_none() {
            out.push(OptionProblem::new(
                "balance_date",
                match o.get("balance_date") {
                    None => "is required for a manual project: when you saw the balance, e.g. 2026-11-20".into(),
                    Some(v) => format!("must be a date such as 2026-11-20 or an RFC 3339 time, got {v}"),
                },
            ));
        }
        o.check_one_of("spend_source", &["openai", "anthropic"], &mut out);
        if o.str("spend_source").is_some() && p.api_key.expose().is_empty() {
            out.push(OptionProblem::new(
                "api_key",
                "is required with spend_source: the Admin key that reads its cost report",
            ));
        }
        o.check_amount(
            "daily_spend",
            false,
            "what the account spends per day, e.g. 1.5",
            &mut out,
        );
        o.check_kind(&mut out);
        out
    }

    async fn read(&self, http: &Http, req: &ReadRequest<'_>) -> Result<Balance, ProviderError> {
        let o = req.options();
        let Some(source) = o.str("spend_source") else {
            return estimate(o, req.currency, req.now, req.timezone);
        };
        let (_, since) = recorded(o, req.timezone)?;
        let base = |default: &'static str| {
            o.str("spend_base_url")
                .unwrap_or(default)
                .trim_end_matches('/')
                .to_owned()
        };
        let spent = match source {
            "openai" => {
                let base = base("https://api.openai.com");
                super::openai::spent_since(http, &base, req.api_key, since)
                    .await?
                    .0
            }
            _ => {
                let base = base("https://api.anthropic.com");
                super::anthropic::spent_since(http, &base, req.api_key, since).await?
            }
        };
        minus(
            o,
            req.currency,
            spent,
            req.timezone,
            |recorded, currency, at| {
                let without = if source == "anthropic" {
                    format!("; {}", super::anthropic::NOT_IN_THE_REPORT)
                } else {
                    String::new()
                };
                format!(
                "estimate: recorded {recorded} {currency} on {at} minus {} spent since ({source} costs){without}",
                spent.round_dp(2).normalize()
            )
            },
        )
    }
}

/// The recorded balance and when it was seen.
fn recorded(options: &Options, tz: TimeZone) -> Result<(Decimal, DateTime<Utc>), ProviderError> {
    let amount = options
        .decimal("balance")
        .ok_or_else(|| ProviderError::Api {
            message: "no recorded balance: set balance and balance_date".into(),
        })?;
    let at = recorded_at(options, tz).ok_or_else(|| ProviderError::Api {
        message: "no balance_date: set when the balance was seen".into(),
    })?;
    Ok((amount, at))
}

/// The recorded balance minus `spent`, marked as an estimate, with the note `how` writes from
/// (recorded amount, currency, when recorded).
fn minus(
    options: &Options,
    currency: Option<&str>,
    spent: Decimal,
    tz: TimeZone,
    how: impl FnOnce(Decimal, &str, String) -> String,
) -> Result<Balance, ProviderError> {
    let (amount, at) = recorded(options, tz)?;
    let currency = currency.unwrap_or("USD");
    let mut b = balance(amount - spent, currency, options.kind())?;
    b.estimate = true;
    let when = format!("{} {}", tz.format(at, "%Y-%m-%d %H:%M"), tz.name());
    Ok(b.with_note(how(amount, currency, when)))
}

/// The recorded balance minus `daily_spend` per day since it was recorded.
pub fn estimate(
    options: &Options,
    currency: Option<&str>,
    now: DateTime<Utc>,
    tz: TimeZone,
) -> Result<Balance, ProviderError> {
    let (_, at) = recorded(options, tz)?;
    let daily = options.decimal("daily_spend").unwrap_or_default();
    let days = Decimal::from((now - at).num_seconds().max(0)) / Decimal::from(86_400);
    let spent = (daily * days).round_dp(6);
    minus(options, currency, spent, tz, |recorded, currency, at| {
        if daily.is_zero() {
            format!("recorded {recorded} {currency} on {at}")
        } else {
            format!(
                "estimate: recorded {recorded} {currency} on {at} minus {daily}/day ({} spent since)",
                spent.round_dp(2)
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;
    use rust_decimal_macros::dec;
    use serde_json::json;

    #[test]
    fn recorded_minus_daily_spend_since() {
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
        let o =
            Options::of(json!({"balance": 100, "balance_date": "2026-11-20", "daily_spend": 2}));
        let utc = TimeZone::parse("UTC").expect("utc");
        let b = estimate(&o, Some("USD"), now, utc).expect("ok");
        assert_eq!(b.amount, dec!(85), "7.5 days × 2");
        assert!(b.estimate);
        // Re-based: a newer real figure starts the count again.
        let o = Options::of(
            json!({"balance": 40, "balance_date": "2026-11-27T12:00:00Z", "daily_spend": 2}),
        );
        assert_eq!(estimate(&o, None, now, utc).expect("ok").amount, dec!(40));
    }

    #[test]
    fn a_date_means_midnight_in_the_configured_zone() {
        let shanghai = TimeZone::parse("Asia/Shanghai").expect("zone");
        let o = Options::of(json!({"balance": 10, "balance_date": "2026-11-20"}));
        let at = recorded_at(&o, shanghai).expect("date");
        assert_eq!(at.to_rfc3339(), "2026-11-19T16:00:00+00:00");
        let b = estimate(&o, None, at, shanghai).expect("ok");
        assert_eq!(
            b.note.as_deref(),
            Some("recorded 10 USD on 2026-11-20 00:00 Asia/Shanghai")
        );
    }

    #[test]
    fn options_are_checked_by_field() {
        let p = |v| ProjectConfig {
            options: Options::of(v),
            ..crate::project::test_project()
        };
        let fields = |v| {
            Manual
                .check_options(&p(v))
                .iter()
                .map(|p| p.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(json!({})), ["balance", "balance_date"]);
        assert_eq!(
            fields(json!({"balance": "x", "balance_date": "yesterday", "daily_spend": -1})),
            ["balance", "balance_date", "daily_spend"]
        );
        assert!(fields(json!({"balance": 5, "balance_date": "2026-11-01"})).is_empty());
    }
}
