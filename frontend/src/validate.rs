//! The subscription form's checks, run before anything is sent: each problem names the field
//! (by its label, in the reader's language) and what to enter. The cycle rules are the
//! model crate's, the same the server applies.

use balance_alert_model::subscription::{bounds, cycle_from_config};
use balance_alert_model::wire::SubscriptionInput;
use balance_alert_model::Decimal;

use crate::format::parse_date;
use crate::i18n::{fill, t, Lang, K};

/// The form as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct SubForm {
    pub name: String,
    pub owner_project: String,
    pub cycle_type: String,
    pub renewal_day: String,
    pub alert_days_before: String,
    pub amount: String,
    pub currency: String,
    pub interval_days: String,
    pub start_date: String,
    pub enabled: bool,
}

impl Default for SubForm {
    fn default() -> Self {
        SubForm {
            name: String::new(),
            owner_project: String::new(),
            cycle_type: "monthly".into(),
            renewal_day: "1".into(),
            alert_days_before: "3".into(),
            amount: "0".into(),
            currency: "USD".into(),
            interval_days: String::new(),
            start_date: String::new(),
            enabled: true,
        }
    }
}

/// One problem: the input's id (`name`, `renewal_day`, …) and the message.
pub type Problem = (&'static str, String);

fn whole(
    s: &str,
    field: &'static str,
    label: K,
    range: (u32, u32),
    lang: Lang,
    problems: &mut Vec<Problem>,
) -> Option<u32> {
    match s.trim().parse::<u32>() {
        Ok(v) if (range.0..=range.1).contains(&v) => Some(v),
        _ => {
            let msg = fill(
                t(lang, K::val_range),
                &[t(lang, label), &range.0.to_string(), &range.1.to_string()],
            );
            problems.push((field, msg));
            None
        }
    }
}

/// Checks `form`; the API body when every field is right, else every problem at once.
pub fn subscription(form: &SubForm, lang: Lang) -> Result<SubscriptionInput, Vec<Problem>> {
    let mut problems = Vec::new();
    let name = form.name.trim();
    if name.is_empty() {
        problems.push((
            "name",
            fill(t(lang, K::val_required), &[t(lang, K::sub_name)]),
        ));
    }
    let cycle = form.cycle_type.as_str();
    let every_n = cycle == "every_n_days";
    let renewal_day = if every_n && form.renewal_day.trim().is_empty() {
        Some(1)
    } else {
        whole(
            &form.renewal_day,
            "renewal_day",
            K::sub_renewal_day,
            bounds::RENEWAL_DAY,
            lang,
            &mut problems,
        )
    };
    let interval_days = if every_n {
        whole(
            &form.interval_days,
            "interval_days",
            K::sub_interval,
            bounds::INTERVAL_DAYS,
            lang,
            &mut problems,
        )
    } else {
        None
    };
    let start_date = if every_n {
        match parse_date(&form.start_date) {
            Some(d) => Some(d),
            None => {
                problems.push((
                    "start_date",
                    fill(t(lang, K::val_date), &[t(lang, K::sub_start)]),
                ));
                None
            }
        }
    } else {
        None
    };
    if let Some(day) = renewal_day {
        if !every_n || (interval_days.is_some() && start_date.is_some()) {
            if let Err(_why) = cycle_from_config(cycle, day, interval_days, start_date) {
                let msg = match cycle {
                    "yearly" => fill(t(lang, K::val_yearly), &[t(lang, K::sub_renewal_day)]),
                    "weekly" => fill(
                        t(lang, K::val_range),
                        &[t(lang, K::sub_renewal_day), "1", "7"],
                    ),
                    "monthly" => fill(
                        t(lang, K::val_range),
                        &[t(lang, K::sub_renewal_day), "1", "31"],
                    ),
                    _ => fill(t(lang, K::val_required), &[t(lang, K::sub_cycle)]),
                };
                let field = if matches!(cycle, "weekly" | "monthly" | "yearly") {
                    "renewal_day"
                } else {
                    "cycle_type"
                };
                problems.push((field, msg));
            }
        }
    }
    let alert_days_before = whole(
        &form.alert_days_before,
        "alert_days_before",
        K::sub_alert_days,
        bounds::ALERT_DAYS_BEFORE,
        lang,
        &mut problems,
    );
    let amount = match form.amount.trim().parse::<Decimal>() {
        Ok(a) if !a.is_sign_negative() => Some(a),
        _ => {
            problems.push((
                "amount",
                fill(t(lang, K::val_number), &[t(lang, K::sub_amount)]),
            ));
            None
        }
    };
    let currency = form.currency.trim().to_ascii_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
        problems.push((
            "currency",
            fill(t(lang, K::val_currency), &[t(lang, K::sub_currency)]),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let owner = form.owner_project.trim();
    Ok(SubscriptionInput {
        name: name.to_owned(),
        new_name: None,
        owner_project: (!owner.is_empty()).then(|| owner.to_owned()),
        cycle_type: Some(cycle.to_owned()),
        renewal_day,
        alert_days_before,
        amount,
        currency: Some(currency),
        last_renewed_date: None,
        interval_days,
        start_date: start_date.map(|d| d.to_string()),
        enabled: Some(form.enabled),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> SubForm {
        SubForm {
            name: "Copilot".into(),
            ..SubForm::default()
        }
    }

    #[test]
    fn a_valid_form_becomes_the_api_body() {
        let body = subscription(&form(), Lang::En).expect("valid");
        assert_eq!(body.name, "Copilot");
        assert_eq!(body.cycle_type.as_deref(), Some("monthly"));
        assert_eq!(body.renewal_day, Some(1));
        assert_eq!(body.currency.as_deref(), Some("USD"));
        assert_eq!(body.owner_project, None);
    }

    #[test]
    fn every_problem_names_its_field_in_the_readers_language() {
        let bad = SubForm {
            name: " ".into(),
            renewal_day: "32".into(),
            amount: "-1".into(),
            currency: "dollars".into(),
            alert_days_before: "x".into(),
            ..SubForm::default()
        };
        let en = subscription(&bad, Lang::En).expect_err("invalid");
        let fields: Vec<&str> = en.iter().map(|p| p.0).collect();
        assert_eq!(
            fields,
            [
                "name",
                "renewal_day",
                "alert_days_before",
                "amount",
                "currency"
            ]
        );
        assert_eq!(en[0].1, "Name: required.");
        assert_eq!(en[1].1, "Renewal day: must be a whole number from 1 to 31.");
        let zh = subscription(&bad, Lang::Zh).expect_err("invalid");
        assert_eq!(zh[3].1, "金额：必须是不小于 0 的数字。");
    }

    #[test]
    fn cycle_rules_are_the_servers() {
        let with = |cycle: &str, day: &str| SubForm {
            cycle_type: cycle.into(),
            renewal_day: day.into(),
            ..form()
        };
        assert!(subscription(&with("weekly", "7"), Lang::En).is_ok());
        let e = subscription(&with("weekly", "8"), Lang::En).expect_err("weekly 8");
        assert_eq!(
            e,
            [(
                "renewal_day",
                "Renewal day: must be a whole number from 1 to 7.".to_owned()
            )]
        );
        assert!(subscription(&with("yearly", "1231"), Lang::En).is_ok());
        let e = subscription(&with("yearly", "1332"), Lang::Zh).expect_err("13th month");
        assert_eq!(e[0].0, "renewal_day");
        let every = SubForm {
            cycle_type: "every_n_days".into(),
            renewal_day: String::new(),
            ..form()
        };
        let e = subscription(&every, Lang::En).expect_err("needs interval and start");
        assert_eq!(
            e.iter().map(|p| p.0).collect::<Vec<_>>(),
            ["interval_days", "start_date"]
        );
        let ok = SubForm {
            interval_days: "10".into(),
            start_date: "2026-11-01".into(),
            ..every
        };
        let body = subscription(&ok, Lang::En).expect("valid");
        assert_eq!(
            (body.interval_days, body.start_date.as_deref()),
            (Some(10), Some("2026-11-01"))
        );
    }
}
