//! How amounts, dates, day counts and forecasts read in each language. Pure: the caller
//! passes the browser's UTC offset and the current time in.

use balance_alert_model::wire::ForecastView;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Timelike};

use crate::i18n::{fill, t, Lang, K};

/// `1234567.891` → `1,234,567.89` (two decimals, half away from zero, `-` for negatives).
pub fn group_digits(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "—".to_owned();
    }
    let s = format!("{:.*}", decimals, value.abs());
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(i, f)| (i, f));
    let mut out = String::with_capacity(s.len() + int.len() / 3 + 1);
    if value < 0.0 && s.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        out.push('-');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// A number as a form field holds it: two decimals, no grouping (`1234.5` → `1234.50`).
pub fn plain(v: f64) -> String {
    group_digits(v, 2).replace(',', "")
}

/// An amount with its currency as a reader of `lang` expects it: `$1,234.50`, `¥35.50`;
/// in Chinese, currencies without a common sign get their Chinese name (`1,234.50 美元`).
pub fn amount(value: f64, currency: &str, lang: Lang) -> String {
    let n = group_digits(value, 2);
    let cur = currency.trim().to_ascii_uppercase();
    let (sign, rest) = match n.strip_prefix('-') {
        Some(r) => ("-", r.to_owned()),
        None => ("", n.clone()),
    };
    match (lang, cur.as_str()) {
        // Figures that are not money: a quota window's remaining percent, points.
        (_, "PERCENT") => format!("{n} %"),
        (Lang::En, "POINTS") => format!("{n} points"),
        (Lang::Zh, "POINTS") => format!("{n} 积分"),
        (_, "CNY" | "RMB") => format!("{sign}¥{rest}"),
        (Lang::En, "USD") => format!("{sign}${rest}"),
        (Lang::En, "EUR") => format!("{sign}€{rest}"),
        (Lang::En, "GBP") => format!("{sign}£{rest}"),
        (Lang::Zh, "USD") => format!("{n} 美元"),
        (Lang::Zh, "EUR") => format!("{n} 欧元"),
        (Lang::Zh, "GBP") => format!("{n} 英镑"),
        (Lang::Zh, "HKD") => format!("{n} 港元"),
        (Lang::Zh, "JPY") => format!("{n} 日元"),
        (_, "") => n,
        _ => format!("{n} {cur}"),
    }
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn local(ts: i64, offset_minutes: i32) -> Option<DateTime<FixedOffset>> {
    let offset = FixedOffset::east_opt(offset_minutes * 60)?;
    Some(DateTime::from_timestamp(ts, 0)?.with_timezone(&offset))
}

/// A calendar date: `27 Nov 2026` / `2026年11月27日`.
pub fn date(d: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "{} {} {}",
            d.day(),
            MONTHS_EN[d.month0() as usize],
            d.year()
        ),
        Lang::Zh => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
    }
}

/// A short date for chart ticks: `27 Nov` / `11月27日`.
pub fn short_date(ts: i64, offset_minutes: i32, lang: Lang) -> String {
    match (local(ts, offset_minutes), lang) {
        (Some(d), Lang::En) => format!("{} {}", d.day(), MONTHS_EN[d.month0() as usize]),
        (Some(d), Lang::Zh) => format!("{}月{}日", d.month(), d.day()),
        (None, _) => "—".to_owned(),
    }
}

/// A moment in the reader's zone (`offset_minutes` east of UTC):
/// `27 Nov 2026 09:05` / `2026年11月27日 09:05`.
pub fn date_time(ts: i64, offset_minutes: i32, lang: Lang) -> String {
    match local(ts, offset_minutes) {
        Some(d) => format!(
            "{} {:02}:{:02}",
            date(d.date_naive(), lang),
            d.hour(),
            d.minute()
        ),
        None => "—".to_owned(),
    }
}

/// The date of a moment in the reader's zone.
pub fn date_of(ts: i64, offset_minutes: i32, lang: Lang) -> String {
    local(ts, offset_minutes).map_or_else(|| "—".to_owned(), |d| date(d.date_naive(), lang))
}

/// A `YYYY-MM-DD` date (what date inputs and the API use); None for anything else.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let mut parts = s.trim().splitn(3, '-');
    let mut next = |len: usize| {
        let p = parts.next()?;
        (p.len() == len && p.bytes().all(|b| b.is_ascii_digit())).then(|| p.parse::<u32>().ok())?
    };
    let (y, m, d) = (next(4)?, next(2)?, next(2)?);
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
}

/// An RFC 3339 time as unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|d| d.timestamp())
}

/// Days relative to today: `today`, `tomorrow`, `in 3 days`, `2 days ago` (and in Chinese).
pub fn days_from_today(days: i64, lang: Lang) -> String {
    match days {
        0 => t(lang, K::days_today).to_owned(),
        1 => t(lang, K::days_tomorrow).to_owned(),
        -1 => t(lang, K::days_yesterday).to_owned(),
        d if d > 1 => fill(t(lang, K::days_in), &[&d.to_string()]),
        d => fill(t(lang, K::days_ago), &[&(-d).to_string()]),
    }
}

/// The overview's forecast column: when the balance runs out at the current burn rate.
/// Empty when there is nothing to forecast (no history, or not falling and above threshold).
pub fn runs_out(forecast: Option<&ForecastView>, lang: Lang) -> String {
    let Some(f) = forecast else {
        return String::new();
    };
    if f.already_empty {
        return t(lang, K::fc_empty).to_owned();
    }
    // The one forecast's whole days (rounded down), as the alerts and /metrics say them.
    let model_lang = match lang {
        Lang::Zh => balance_alert_model::Language::Zh,
        Lang::En => balance_alert_model::Language::En,
    };
    match f.days_left {
        Some(d) if d < 1 => t(lang, K::fc_within_day).to_owned(),
        Some(d) => fill(
            t(lang, K::fc_days),
            &[&balance_alert_model::text::days(d, model_lang)],
        ),
        None if f.already_below => t(lang, K::fc_below).to_owned(),
        None => t(lang, K::fc_stable).to_owned(),
    }
}

/// Days until zero from a forecast, for sorting the overview (none = never).
pub fn days_until_zero(forecast: Option<&ForecastView>) -> Option<f64> {
    forecast.and_then(|f| {
        if f.already_empty {
            Some(0.0)
        } else {
            f.days_until_zero
        }
    })
}

/// A percentage with its sign: `+12.5 %`, `-3.0 %`.
pub fn percent(p: f64) -> String {
    if !p.is_finite() {
        return "—".to_owned();
    }
    let sign = if p > 0.0 { "+" } else { "" };
    format!("{sign}{p:.1} %")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(days_until_zero: Option<f64>, below: bool, empty: bool) -> ForecastView {
        ForecastView {
            burn_rate_per_day: 1.0,
            already_below: below,
            already_empty: empty,
            threshold_date: None,
            days_until_threshold: None,
            zero_date: None,
            days_until_zero,
            days_left: days_until_zero.map(|d| d.floor() as i64),
        }
    }

    #[test]
    fn digits_are_grouped_by_thousands_with_two_decimals() {
        assert_eq!(group_digits(0.0, 2), "0.00");
        assert_eq!(group_digits(999.999, 2), "1,000.00");
        assert_eq!(group_digits(1234567.891, 2), "1,234,567.89");
        assert_eq!(group_digits(-1234.5, 2), "-1,234.50");
        assert_eq!(group_digits(-0.001, 2), "0.00");
        assert_eq!(group_digits(f64::NAN, 2), "—");
        assert_eq!(plain(1234567.891), "1234567.89");
    }

    #[test]
    fn amounts_read_naturally_in_english() {
        assert_eq!(amount(1234.5, "USD", Lang::En), "$1,234.50");
        assert_eq!(amount(35.5, "CNY", Lang::En), "¥35.50");
        assert_eq!(amount(66.0, "percent", Lang::En), "66.00 %");
        assert_eq!(amount(9810.0, "points", Lang::En), "9,810.00 points");
        assert_eq!(amount(9810.0, "points", Lang::Zh), "9,810.00 积分");
        assert_eq!(amount(-2.0, "usd", Lang::En), "-$2.00");
        assert_eq!(amount(10.0, "CHF", Lang::En), "10.00 CHF");
        assert_eq!(amount(10.0, "", Lang::En), "10.00");
    }

    #[test]
    fn amounts_read_naturally_in_chinese() {
        assert_eq!(amount(1234.5, "USD", Lang::Zh), "1,234.50 美元");
        assert_eq!(amount(35.5, "CNY", Lang::Zh), "¥35.50");
        assert_eq!(amount(-35.5, "CNY", Lang::Zh), "-¥35.50");
        assert_eq!(amount(7.0, "JPY", Lang::Zh), "7.00 日元");
        assert_eq!(amount(7.0, "CHF", Lang::Zh), "7.00 CHF");
    }

    #[test]
    fn dates_follow_each_languages_order() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
        assert_eq!(date(d, Lang::En), "27 Nov 2026");
        assert_eq!(date(d, Lang::Zh), "2026年11月27日");
        // 2026-11-26T23:30:00Z is already the 27th in Shanghai (+08:00).
        let ts = 1_795_735_800;
        assert_eq!(date_time(ts, 0, Lang::En), "26 Nov 2026 23:30");
        assert_eq!(date_time(ts, 480, Lang::Zh), "2026年11月27日 07:30");
        assert_eq!(date_of(ts, 480, Lang::En), "27 Nov 2026");
        assert_eq!(short_date(ts, 480, Lang::En), "27 Nov");
        assert_eq!(short_date(ts, 0, Lang::Zh), "11月26日");
        assert_eq!(parse_rfc3339("2026-11-26T23:30:00Z"), Some(ts));
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(
            parse_date("2026-12-31"),
            NaiveDate::from_ymd_opt(2026, 12, 31)
        );
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("2026-1-5"), None);
        assert_eq!(parse_date("31/12/2026"), None);
    }

    #[test]
    fn relative_days_in_both_languages() {
        assert_eq!(days_from_today(0, Lang::En), "today");
        assert_eq!(days_from_today(1, Lang::Zh), "明天");
        assert_eq!(days_from_today(12, Lang::En), "in 12 days");
        assert_eq!(days_from_today(12, Lang::Zh), "12 天后");
        assert_eq!(days_from_today(-3, Lang::En), "3 days ago");
        assert_eq!(days_from_today(-1, Lang::Zh), "昨天");
    }

    #[test]
    fn forecast_reads_as_days_until_empty() {
        assert_eq!(runs_out(None, Lang::En), "");
        assert_eq!(
            runs_out(Some(&view(Some(11.6), false, false)), Lang::En),
            "runs out in 11 days",
            "whole days rounded down, as the alert and /metrics say"
        );
        assert_eq!(
            runs_out(Some(&view(Some(11.6), false, false)), Lang::Zh),
            "11 天后用完"
        );
        assert_eq!(
            runs_out(Some(&view(Some(1.5), false, false)), Lang::En),
            "runs out in 1 day"
        );
        assert_eq!(
            runs_out(Some(&view(Some(0.4), true, false)), Lang::En),
            "runs out within a day"
        );
        assert_eq!(
            runs_out(Some(&view(Some(0.0), true, true)), Lang::Zh),
            "已用完"
        );
        assert_eq!(
            runs_out(Some(&view(None, true, false)), Lang::En),
            "below threshold"
        );
        assert_eq!(days_until_zero(Some(&view(None, true, true))), Some(0.0));
        assert_eq!(
            days_until_zero(Some(&view(Some(3.0), false, false))),
            Some(3.0)
        );
        assert_eq!(percent(12.345), "+12.3 %");
        assert_eq!(percent(-3.0), "-3.0 %");
    }
}
