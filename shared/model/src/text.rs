//! The words of an alert, rendered from its stored facts in either language, and the one way
//! amounts are rounded for people. Pure and wasm-safe: the server, the channels, the CLI and the
//! dashboard all call these, so a figure reads the same everywhere.

use rust_decimal::RoundingStrategy;
use serde::{Deserialize, Serialize};

use crate::alert::{AlertKind, AlertRecord, AlertState};
use crate::{BalanceKind, Decimal};

/// The language of messages and of the texts stored with alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Chinese, the Python tool's language (default).
    #[default]
    Zh,
    En,
}

impl Language {
    /// Parses `zh`/`en` (also `zh-CN`, `en-US`, `chinese`, `english`).
    pub fn parse(s: &str) -> Option<Language> {
        let l = s.trim().to_ascii_lowercase();
        if l == "zh" || l.starts_with("zh-") || l.starts_with("zh_") || l == "chinese" || l == "cn"
        {
            Some(Language::Zh)
        } else if l == "en" || l.starts_with("en-") || l.starts_with("en_") || l == "english" {
            Some(Language::En)
        } else {
            None
        }
    }

    /// `zh` or `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Zh => "zh",
            Language::En => "en",
        }
    }

    /// The text in this language.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Language::Zh => zh,
            Language::En => en,
        }
    }
}

/// Places every amount shows at least (currencies, points and percentages alike).
pub const MIN_PLACES: u32 = 2;
/// Places an amount may grow to so it never prints equal to a threshold it differs from.
pub const MAX_PLACES: u32 = 8;

fn round(value: Decimal, places: u32) -> Decimal {
    value.round_dp_with_strategy(places, RoundingStrategy::MidpointNearestEven)
}

fn fixed(value: Decimal, places: u32) -> String {
    let places = places as usize;
    format!("{:.places$}", round(value, places as u32))
}

/// `value` rounded half-even to two places (`9.995` → `10.00`, `0.125` → `0.12`).
pub fn number(value: Decimal) -> String {
    fixed(value, MIN_PLACES)
}

/// `value` with its currency: `12.50 USD` (no unit when `currency` is empty).
pub fn amount(value: Decimal, currency: &str) -> String {
    with_unit(number(value), currency)
}

fn with_unit(n: String, currency: &str) -> String {
    if currency.is_empty() {
        n
    } else {
        format!("{n} {currency}")
    }
}

/// The places needed so that `value` and every reference shown beside it keep their order when
/// printed: 9.999 beside a threshold of 10 prints as `9.999`, never `10.00`.
pub fn places_against(value: Decimal, references: &[Decimal]) -> u32 {
    let mut places = MIN_PLACES;
    while places < MAX_PLACES
        && references.iter().any(|r| {
            let (v, t) = (round(value, places), round(*r, places));
            value.cmp(r) != v.cmp(&t)
        })
    {
        places += 1;
    }
    places
}

/// `value` and `reference` with their currency, rounded to the same places, so the printed
/// order is the true order.
pub fn amounts_against(value: Decimal, reference: Decimal, currency: &str) -> (String, String) {
    let places = places_against(value, &[reference]);
    (
        with_unit(fixed(value, places), currency),
        with_unit(fixed(reference, places), currency),
    )
}

/// A number of whole days as people read it: "less than a day", "1 day", "3 days" / "不到 1 天",
/// "3 天". `days` counts whole days rounded down (see [`crate::forecast::whole_days`]).
pub fn days(days: i64, lang: Language) -> String {
    match (lang, days) {
        (Language::Zh, d) if d < 1 => "不到 1 天".to_owned(),
        (Language::Zh, d) => format!("{d} 天"),
        (Language::En, d) if d < 1 => "less than a day".to_owned(),
        (Language::En, 1) => "1 day".to_owned(),
        (Language::En, d) => format!("{d} days"),
    }
}

/// "3 checks failed in a row: <reason>" / "连续 3 次查询失败：<reason>".
pub fn failures(n: u32, reason: &str, lang: Language) -> String {
    match lang {
        Language::Zh => format!("连续 {n} 次查询失败：{reason}"),
        Language::En => format!("{n} checks failed in a row: {reason}"),
    }
}

/// What a figure is called in a message: a budget or a quota window is not a balance.
pub fn figure_name(figure: Option<BalanceKind>, lang: Language) -> &'static str {
    match figure {
        Some(BalanceKind::RemainingCredit) => lang.pick("剩余额度", "credits left"),
        Some(BalanceKind::BudgetSpend) => lang.pick("预算剩余", "budget left"),
        Some(BalanceKind::QuotaWindow) => lang.pick("窗口剩余", "quota left"),
        Some(BalanceKind::PrepaidBalance) | None => lang.pick("余额", "balance"),
    }
}

/// The one-line summary of an alert in `lang`, rendered from its facts (kind, state, figures,
/// failure count and reason, forecast days). Records written before the facts were stored
/// (and renewal and mail alerts, whose text their own module writes) keep their stored text.
pub fn alert_text(a: &AlertRecord, lang: Language) -> String {
    let name = &a.project_name;
    let d = &a.details;
    let sep = lang.pick("：", ": ");
    let figure = figure_name(d.figure, lang);
    let failing = a.state == AlertState::Failing
        && matches!(a.kind, AlertKind::Failing | AlertKind::Reminder);
    if failing {
        let (Some(n), Some(reason)) = (d.failures, d.reason.as_deref()) else {
            return a.message.clone();
        };
        return format!("{name}{sep}{}", failures(n, reason, lang));
    }
    match a.kind {
        AlertKind::Recovered => match a.balance {
            Some(v) => match lang {
                Language::Zh => format!("{name}{sep}已恢复，{figure} {}", amount(v, &a.currency)),
                Language::En => {
                    format!("{name}{sep}recovered, {figure} {}", amount(v, &a.currency))
                }
            },
            None => a.message.clone(),
        },
        AlertKind::Low | AlertKind::Critical | AlertKind::Reminder => {
            let Some(v) = a.balance else {
                return a.message.clone();
            };
            let (value, threshold) = amounts_against(v, a.threshold, &a.currency);
            let critical = a.state == AlertState::Critical;
            if v >= a.threshold {
                // Back above the line but not by the recovery margin: still LOW (or CRITICAL),
                // and the text says so instead of contradicting its own figures.
                let recovers = d
                    .recovers_at
                    .map(|r| amount(r, &a.currency))
                    .unwrap_or_default();
                return match lang {
                    Language::Zh => format!(
                        "{name}{sep}{figure} {value} 已回到{}阈值 {threshold} 以上，但尚未恢复（恢复线 {recovers}）",
                        if critical { "严重" } else { "" }
                    ),
                    Language::En => format!(
                        "{name}{sep}{figure} {value} is above the {}threshold {threshold} but not yet recovered (recovers at {recovers})",
                        if critical { "critical " } else { "" }
                    ),
                };
            }
            match lang {
                Language::Zh => format!(
                    "{name}{sep}{figure} {value} 低于{}阈值 {threshold}（{}）",
                    if critical { "严重" } else { "" },
                    if critical {
                        "严重不足"
                    } else {
                        "余额不足"
                    }
                ),
                Language::En => format!(
                    "{name}{sep}{figure} {value} is {} (threshold {threshold})",
                    a.state.as_str().to_uppercase()
                ),
            }
        }
        AlertKind::Forecast => match (d.days_left, d.due_date.as_deref()) {
            (Some(n), Some(date)) => match lang {
                Language::Zh => format!("{name}{sep}预计{}后耗尽（{date}）", days(n, lang)),
                Language::En => format!("{name}{sep}runs out in {}, on {date}", days(n, lang)),
            },
            _ => a.message.clone(),
        },
        AlertKind::Renewal => match (d.days_left, d.due_date.as_deref()) {
            (Some(n), Some(date)) => {
                let price = amount(a.balance.unwrap_or(a.threshold), &a.currency);
                match (lang, n) {
                    (Language::Zh, 0) => format!("{name}{sep}今天续费（{date}，{price}）"),
                    (Language::Zh, n) => format!("{name}{sep}{n} 天后续费（{date}，{price}）"),
                    (Language::En, 0) => format!("{name}: renews today, {date} ({price})"),
                    (Language::En, n) => {
                        format!("{name}: renews in {} on {date} ({price})", days(n, lang))
                    }
                }
            }
            _ => a.message.clone(),
        },
        AlertKind::Failing | AlertKind::Email => a.message.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().expect("decimal")
    }

    #[test]
    fn amounts_round_half_even_to_two_places() {
        assert_eq!(number(d("0.125")), "0.12");
        assert_eq!(number(d("0.135")), "0.14");
        assert_eq!(number(d("9.995")), "10.00");
        assert_eq!(number(d("7")), "7.00");
        assert_eq!(amount(d("12.5"), "USD"), "12.50 USD");
    }

    #[test]
    fn a_value_below_its_threshold_never_prints_equal_to_it() {
        assert_eq!(
            amounts_against(d("9.999"), d("10"), "USD"),
            ("9.999 USD".to_owned(), "10.000 USD".to_owned())
        );
        assert_eq!(
            amounts_against(d("9.99"), d("10"), ""),
            ("9.99".to_owned(), "10.00".to_owned())
        );
        let (v, t) = amounts_against(d("1.9999999"), d("2"), "");
        assert!(v < t, "{v} vs {t}");
    }

    #[test]
    fn day_counts_read_naturally_in_both_languages() {
        assert_eq!(days(0, Language::En), "less than a day");
        assert_eq!(days(1, Language::En), "1 day");
        assert_eq!(days(3, Language::En), "3 days");
        assert_eq!(days(0, Language::Zh), "不到 1 天");
        assert_eq!(days(3, Language::Zh), "3 天");
    }

    #[test]
    fn language_names_parse() {
        assert_eq!(Language::parse("zh-CN"), Some(Language::Zh));
        assert_eq!(Language::parse("English"), Some(Language::En));
        assert_eq!(Language::parse("fr"), None);
    }
}
