//! The overview rows' filtering, sorting, counting and paging.

use super::*;
use balance_alert_model::alert::Snooze;
use balance_alert_model::wire::{Sparkline, TrendPoint};
use balance_alert_model::Decimal;

fn credit(
    name: &str,
    owner: Option<&str>,
    provider: &str,
    credits: Option<&str>,
    state: &str,
) -> CreditRow {
    let d = |s: &str| s.parse::<Decimal>().expect("decimal");
    CreditRow {
        project: name.into(),
        name: name.into(),
        project_id: balance_alert_model::project_id(provider, name),
        owner_project: owner.map(str::to_owned),
        provider: provider.into(),
        kind: "credits".into(),
        figure: Some(BalanceKind::PrepaidBalance),
        success: credits.is_some(),
        credits: credits.map(d),
        balance: credits.map(d),
        currency: "USD".into(),
        threshold: d("50"),
        critical_threshold: None,
        need_alarm: false,
        note: None,
        estimate: false,
        unlimited: false,
        state: state.into(),
        error: None,
        cached: false,
        stale: false,
        stale_reason: None,
        snooze: None,
        last_check: None,
    }
}

fn rows() -> Vec<Row> {
    vec![
        Row::new(
            &credit(
                "OpenRouter-Main",
                Some("chatbot"),
                "openrouter",
                Some("182.4"),
                "ok",
            ),
            &[],
            0,
        ),
        Row::new(
            &credit(
                "DeepSeek-CN",
                Some("chatbot"),
                "deepseek",
                Some("35.5"),
                "low",
            ),
            &[],
            0,
        ),
        Row::new(
            &credit(
                "Moonshot",
                Some("search"),
                "moonshot",
                Some("4"),
                "critical",
            ),
            &[],
            0,
        ),
        Row::new(
            &credit("Revoked", None, "openrouter", None, "failing"),
            &[],
            0,
        ),
    ]
}

fn names(rows: &[Row], idx: &[usize]) -> Vec<String> {
    idx.iter().map(|&i| rows[i].name.clone()).collect()
}

#[test]
fn search_matches_name_owner_and_provider_case_insensitively() {
    let r = rows();
    let f = |text: &str| Filter {
        text: text.into(),
        ..Filter::default()
    };
    assert_eq!(
        names(&r, &select(&r, &f("DEEP"), Col::Name, false)),
        ["DeepSeek-CN"]
    );
    assert_eq!(select(&r, &f("chatbot"), Col::Name, false).len(), 2);
    assert_eq!(select(&r, &f("openrouter"), Col::Name, false).len(), 2);
    assert!(select(&r, &f("nothing like it"), Col::Name, false).is_empty());
}

#[test]
fn filters_combine_state_owner_and_provider() {
    let r = rows();
    let f = Filter {
        state: "low".into(),
        ..Filter::default()
    };
    assert_eq!(
        names(&r, &select(&r, &f, Col::Name, false)),
        ["DeepSeek-CN"]
    );
    let f = Filter {
        owner: "chatbot".into(),
        provider: "openrouter".into(),
        ..Filter::default()
    };
    assert_eq!(
        names(&r, &select(&r, &f, Col::Name, false)),
        ["OpenRouter-Main"]
    );
}

#[test]
fn sorting_by_value_keeps_missing_values_last_in_both_directions() {
    let r = rows();
    let all = Filter::default();
    assert_eq!(
        names(&r, &select(&r, &all, Col::Value, false)),
        ["Moonshot", "DeepSeek-CN", "OpenRouter-Main", "Revoked"]
    );
    assert_eq!(
        names(&r, &select(&r, &all, Col::Value, true)),
        ["OpenRouter-Main", "DeepSeek-CN", "Moonshot", "Revoked"]
    );
    assert_eq!(
        names(&r, &select(&r, &all, Col::State, true)),
        ["Moonshot", "Revoked", "DeepSeek-CN", "OpenRouter-Main"]
    );
}

#[test]
fn an_active_snooze_shows_as_snoozed_and_counts_apart() {
    let mut c = credit("DeepSeek-CN", None, "deepseek", Some("35.5"), "low");
    c.snooze = Some(Snooze {
        until: Some(100),
        until_topped_up: false,
        alert_id: None,
        at: 0,
    });
    assert_eq!(Row::new(&c, &[], 50).shown_state(), "snoozed");
    assert_eq!(
        Row::new(&c, &[], 150).shown_state(),
        "low",
        "expired snooze"
    );
    let mut r = rows();
    r.push(Row::new(&c, &[], 50));
    let n = counts(&r);
    assert_eq!(
        (n.total, n.ok, n.low, n.critical, n.failing, n.snoozed),
        (5, 1, 1, 1, 1, 1)
    );
}

#[test]
fn sparklines_group_by_project_oldest_first_and_feed_the_forecast() {
    let c = credit("DeepSeek-CN", None, "deepseek", Some("80"), "ok");
    let reading = |ts: &str, bal: &str| TrendPoint {
        balance: bal.parse().expect("decimal"),
        timestamp: ts.into(),
    };
    let grouped = group_sparklines(&Sparklines {
        status: "success".into(),
        days: 7,
        points: 48,
        data: vec![Sparkline {
            project_id: c.project_id.clone(),
            forecast: None,
            points: vec![
                reading("2026-11-02T00:00:00Z", "90"),
                reading("2026-11-01T00:00:00Z", "100"),
                reading("2026-11-03T00:00:00Z", "80"),
                reading("not a time", "1"),
            ],
        }],
    });
    let h = &grouped[&c.project_id];
    let now = parse_rfc3339("2026-11-03T00:00:00Z").expect("time");
    let row = Row::new(&c, h, now);
    assert_eq!(row.spark, [100.0, 90.0, 80.0]);
    assert!(
        row.forecast.is_none(),
        "never a forecast of the thinned points: the server's is the one shown"
    );
}

#[test]
fn the_forecast_shown_is_the_servers() {
    let view = balance_alert_model::wire::ForecastView {
        burn_rate_per_day: 2.0,
        already_below: false,
        already_empty: false,
        threshold_date: None,
        days_until_threshold: None,
        zero_date: Some("2026-11-10T00:00:00Z".into()),
        days_until_zero: Some(3.5),
        days_left: Some(3),
    };
    let lines = Sparklines {
        status: "success".into(),
        days: 7,
        points: 48,
        data: vec![Sparkline {
            project_id: "p1".into(),
            points: Vec::new(),
            forecast: Some(view.clone()),
        }],
    };
    let f = sparkline_forecasts(&lines);
    assert_eq!(f.get("p1").and_then(|v| v.days_left), Some(3));
    let c = credit("DeepSeek-CN", None, "deepseek", Some("80"), "ok");
    let row = Row::new(&c, &[], 0).with_forecast(f.get("p1").cloned());
    assert_eq!(row.forecast.and_then(|v| v.days_left), Some(3));
}

#[test]
fn a_thousand_rows_filter_and_page() {
    let many: Vec<Row> = (0..1000)
        .map(|i| {
            Row::new(
                &credit(
                    &format!("proj-{i:04}"),
                    Some("o"),
                    "deepseek",
                    Some("10"),
                    "ok",
                ),
                &[],
                0,
            )
        })
        .collect();
    let f = Filter {
        text: "proj-01".into(),
        ..Filter::default()
    };
    assert_eq!(select(&many, &f, Col::Name, false).len(), 100);
    assert_eq!(page_bounds(1000, 3, 50), (150, 200, 3, 20));
    assert_eq!(page_bounds(0, 5, 50), (0, 0, 0, 1));
    assert_eq!(page_bounds(120, 9, 50), (100, 120, 2, 3));
    assert_eq!(distinct(&many, |r| r.owner.as_str()), ["o"]);
}
