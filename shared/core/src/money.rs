//! Exact amounts from JSON: numbers and numeric strings ("110.00", "1,234.50", "-5") become
//! [`Decimal`]s without a detour through binary floating point, so `total − used` and a
//! comparison against a threshold of 10.00 are exact.

use std::str::FromStr;

use balance_alert_model::Decimal;
use serde_json::Value;

/// The largest amount accepted (a quadrillion): far above any real balance, and small enough
/// that sums and differences of amounts can never overflow a [`Decimal`].
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(0xA4C6_8000, 0x0003_8D7E, 0, false, 0);

/// A decimal from text: optional sign, digits with `,` or `_` thousands separators, an
/// optional fraction, an optional exponent. None for anything else (`NaN`, `inf`, `abc`) and
/// for magnitudes beyond [`MAX_AMOUNT`].
pub fn parse_text(text: &str) -> Option<Decimal> {
    parse_unbounded(text).filter(|d| d.abs() <= MAX_AMOUNT)
}

/// [`parse_text`] without the magnitude bound: for values already stored (a bound tightened
/// later must never make existing data unreadable).
pub fn parse_stored(text: &str) -> Option<Decimal> {
    parse_unbounded(text)
}

fn parse_unbounded(text: &str) -> Option<Decimal> {
    let t: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | '_'))
        .collect();
    if t.is_empty() || !t.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    if t.contains(['e', 'E']) {
        return Decimal::from_scientific(&t).ok();
    }
    Decimal::from_str(&t).ok()
}

/// A JSON number, or a string holding one (several providers send amounts as strings).
pub fn from_json(v: &Value) -> Option<Decimal> {
    match v {
        // serde_json keeps integers exact and prints floats in their shortest round-trip
        // form, which is the decimal the provider wrote.
        Value::Number(n) => parse_text(&n.to_string()),
        Value::String(s) => parse_text(s),
        _ => None,
    }
}

/// A decimal as a JSON number (for writing config values back): integers stay integers.
pub fn to_json(d: Decimal) -> Value {
    let d = d.normalize();
    let text = d.to_string();
    serde_json::from_str::<Value>(&text)
        .ok()
        .filter(Value::is_number)
        .unwrap_or(Value::String(text))
}

/// The nearest `f64`, for regression and metrics only (never for comparisons).
pub fn to_f64(d: Decimal) -> f64 {
    balance_alert_model::to_f64(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde_json::json;

    #[test]
    fn numbers_and_numeric_strings_are_exact() {
        assert_eq!(from_json(&json!("110.00")), Some(dec!(110.00)));
        assert_eq!(from_json(&json!("1,234.50")), Some(dec!(1234.50)));
        assert_eq!(from_json(&json!(" -5 ")), Some(dec!(-5)));
        assert_eq!(from_json(&json!(74.75)), Some(dec!(74.75)));
        assert_eq!(from_json(&json!(0.1)), Some(dec!(0.1)));
        assert_eq!(from_json(&json!(12)), Some(dec!(12)));
        assert_eq!(from_json(&json!(1.5e3)), Some(dec!(1500)));
        for bad in [
            json!("NaN"),
            json!("inf"),
            json!("abc"),
            json!(""),
            json!(null),
            json!([1]),
        ] {
            assert_eq!(from_json(&bad), None, "{bad}");
        }
    }

    #[test]
    fn sums_that_drift_in_floating_point_compare_exactly() {
        // In f64, 100.1 − 90.1 is 9.999999999999986: below a threshold of 10.
        let left = from_json(&json!(100.1)).expect("n") - from_json(&json!(90.1)).expect("n");
        assert_eq!(left, dec!(10));
        assert!(left >= dec!(10.00));
    }

    #[test]
    fn absurd_magnitudes_are_refused_so_arithmetic_cannot_overflow() {
        assert_eq!(MAX_AMOUNT, dec!(1_000_000_000_000_000));
        assert_eq!(parse_text("1000000000000000"), Some(MAX_AMOUNT));
        assert_eq!(parse_text("79228162514264337593543950335"), None);
        assert_eq!(parse_text("-1e16"), None);
    }

    #[test]
    fn decimals_write_back_as_json_numbers() {
        assert_eq!(to_json(dec!(7.50)), json!(7.5));
        assert_eq!(to_json(dec!(10)), json!(10));
        assert_eq!(to_json(dec!(10.0)), json!(10));
    }
}
