//! The overview table's model: one [`Row`] per project built from the API's wire types, and
//! the filtering, sorting, counting and paging the page does on every keystroke. Pure, so a
//! 1,000-row filter is tested (and cheap) on the host.

use std::cmp::Ordering;
use std::collections::HashMap;

use balance_alert_model::alert::AlertState;
use balance_alert_model::wire::{CreditRow, ForecastView, Sparklines};
use balance_alert_model::{BalanceKind, BalancePoint, Decimal};

use crate::format::{days_until_zero, parse_rfc3339};

/// One project as the overview shows it.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub provider: String,
    /// `prepaid_balance`, `remaining_credit`, `budget_spend`, `quota_window`; None if unknown.
    pub figure: Option<&'static str>,
    pub value: Option<f64>,
    pub currency: String,
    pub threshold: f64,
    pub critical: Option<f64>,
    /// `ok`, `low`, `critical`, `failing` or `unknown`.
    pub state: String,
    /// Reminders are held back (acknowledged or snoozed) while not OK.
    pub snoozed: bool,
    pub error: Option<String>,
    pub stale_reason: Option<String>,
    /// The figure is computed from a recorded one (a `manual` project), not read.
    pub estimate: bool,
    /// How the figure was arrived at (budget spend, an estimate's basis, other currencies).
    pub note: Option<String>,
    /// The key has no limit: the figure is usage and no threshold applies.
    pub unlimited: bool,
    /// The last 7 days of balances, oldest first.
    pub spark: Vec<f64>,
    pub forecast: Option<ForecastView>,
    /// Lower-cased name, owner and provider, for the search box.
    haystack: String,
}

fn to_f64(d: Decimal) -> f64 {
    d.to_string().parse().unwrap_or(f64::NAN)
}

impl Row {
    /// The row of `credit`, with `history` (that project's readings, oldest first) for the
    /// sparkline and forecast, at `now` (unix seconds).
    pub fn new(credit: &CreditRow, history: &[BalancePoint], now: i64) -> Row {
        let snoozed = match (&credit.snooze, AlertState::parse(&credit.state)) {
            (Some(s), Some(state)) => s.active(now, state),
            _ => false,
        };
        let owner = credit.owner_project.clone().unwrap_or_default();
        Row {
            haystack: format!("{}\n{}\n{}", credit.project, owner, credit.provider).to_lowercase(),
            id: credit.project_id.clone(),
            name: credit.project.clone(),
            owner,
            provider: credit.provider.clone(),
            figure: credit.figure.map(BalanceKind::as_str),
            value: credit.credits.map(to_f64),
            currency: credit.currency.clone(),
            threshold: to_f64(credit.threshold),
            critical: credit.critical_threshold.map(to_f64),
            state: credit.state.clone(),
            snoozed,
            error: credit.error.clone(),
            stale_reason: credit.stale_reason.clone(),
            estimate: credit.estimate,
            note: credit.note.clone(),
            unlimited: credit.unlimited,
            spark: history.iter().map(|p| to_f64(p.balance)).collect(),
            // The server's one forecast (see `with_forecast`), never one computed from the
            // thinned sparkline points.
            forecast: None,
        }
    }

    /// The row with the server's run-out forecast (`GET /api/history/sparklines`).
    pub fn with_forecast(mut self, forecast: Option<ForecastView>) -> Row {
        self.forecast = forecast;
        self
    }

    /// The state as shown: `snoozed` wins over low/critical/failing.
    pub fn shown_state(&self) -> &str {
        if self.snoozed {
            "snoozed"
        } else {
            &self.state
        }
    }
}

/// Each project's run-out forecast as the server computed it (the one forecast every surface
/// shows), by project id.
pub fn sparkline_forecasts(lines: &Sparklines) -> HashMap<String, ForecastView> {
    lines
        .data
        .iter()
        .filter_map(|l| Some((l.project_id.clone(), l.forecast.clone()?)))
        .collect()
}

/// Each project's sparkline points (`GET /api/history/sparklines`) as readings, by project
/// id, oldest first: the sparkline and the forecast read them.
pub fn group_sparklines(lines: &Sparklines) -> HashMap<String, Vec<BalancePoint>> {
    let mut out: HashMap<String, Vec<BalancePoint>> = HashMap::new();
    for line in &lines.data {
        let mut points: Vec<BalancePoint> = line
            .points
            .iter()
            .filter_map(|p| {
                Some(BalancePoint {
                    project_id: line.project_id.clone(),
                    balance: p.balance,
                    timestamp: parse_rfc3339(&p.timestamp)?,
                    ..Default::default()
                })
            })
            .collect();
        points.sort_by_key(|p| p.timestamp);
        out.insert(line.project_id.clone(), points);
    }
    out
}

/// What the search box and the three selects ask for (empty = any).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub text: String,
    /// A shown state (`ok`, `low`, `critical`, `failing`, `unknown`, `snoozed`).
    pub state: String,
    pub owner: String,
    pub provider: String,
}

impl Filter {
    fn matches(&self, row: &Row, needle: &str) -> bool {
        (needle.is_empty() || row.haystack.contains(needle))
            && (self.state.is_empty() || row.shown_state() == self.state)
            && (self.owner.is_empty() || row.owner == self.owner)
            && (self.provider.is_empty() || row.provider == self.provider)
    }
}

/// A sortable column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Name,
    Owner,
    Provider,
    Figure,
    Value,
    Threshold,
    State,
    Forecast,
}

impl Col {
    /// Every column in display order.
    pub const ALL: [Col; 8] = [
        Col::Name,
        Col::Owner,
        Col::Provider,
        Col::Figure,
        Col::Value,
        Col::Threshold,
        Col::State,
        Col::Forecast,
    ];
}

/// How urgent a shown state is: the default sort puts the worst first.
pub fn severity(state: &str) -> u8 {
    match state {
        "critical" => 5,
        "failing" => 4,
        "low" => 3,
        "snoozed" => 2,
        "unknown" => 1,
        _ => 0,
    }
}

/// None sorts after every value, whichever the direction.
fn opt_cmp(a: Option<f64>, b: Option<f64>, desc: bool) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => {
            let o = x.partial_cmp(&y).unwrap_or(Ordering::Equal);
            if desc {
                o.reverse()
            } else {
                o
            }
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Indices of the rows `filter` keeps, sorted by `col` (`desc` reverses; ties by name).
pub fn select(rows: &[Row], filter: &Filter, col: Col, desc: bool) -> Vec<usize> {
    let needle = filter.text.trim().to_lowercase();
    let mut idx: Vec<usize> = (0..rows.len())
        .filter(|&i| filter.matches(&rows[i], &needle))
        .collect();
    let dir = |o: Ordering| if desc { o.reverse() } else { o };
    idx.sort_by(|&a, &b| {
        let (ra, rb) = (&rows[a], &rows[b]);
        let primary = match col {
            Col::Name => dir(ra.name.to_lowercase().cmp(&rb.name.to_lowercase())),
            Col::Owner => dir(ra.owner.cmp(&rb.owner)),
            Col::Provider => dir(ra.provider.cmp(&rb.provider)),
            Col::Figure => dir(ra.figure.cmp(&rb.figure)),
            Col::Value => opt_cmp(ra.value, rb.value, desc),
            Col::Threshold => dir(ra
                .threshold
                .partial_cmp(&rb.threshold)
                .unwrap_or(Ordering::Equal)),
            Col::State => dir(severity(ra.shown_state()).cmp(&severity(rb.shown_state()))),
            Col::Forecast => opt_cmp(
                days_until_zero(ra.forecast.as_ref()),
                days_until_zero(rb.forecast.as_ref()),
                desc,
            ),
        };
        primary
            .then_with(|| ra.name.cmp(&rb.name))
            .then_with(|| ra.provider.cmp(&rb.provider))
    });
    idx
}

/// Projects per shown state, for the summary at the top.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: usize,
    pub ok: usize,
    pub low: usize,
    pub critical: usize,
    pub failing: usize,
    pub snoozed: usize,
    pub unknown: usize,
}

/// Counts over all rows.
pub fn counts(rows: &[Row]) -> Counts {
    let mut c = Counts {
        total: rows.len(),
        ..Counts::default()
    };
    for r in rows {
        match r.shown_state() {
            "ok" => c.ok += 1,
            "low" => c.low += 1,
            "critical" => c.critical += 1,
            "failing" => c.failing += 1,
            "snoozed" => c.snoozed += 1,
            _ => c.unknown += 1,
        }
    }
    c
}

/// The distinct non-empty values of a field, sorted, for a filter's options.
pub fn distinct<'a>(rows: &'a [Row], field: impl Fn(&'a Row) -> &'a str) -> Vec<String> {
    let mut v: Vec<String> = rows
        .iter()
        .map(field)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Page `page` (0-based, clamped) of `len` items, `per_page` each: (start, end, page, pages).
pub fn page_bounds(len: usize, page: usize, per_page: usize) -> (usize, usize, usize, usize) {
    let per_page = per_page.max(1);
    let pages = len.div_ceil(per_page).max(1);
    let page = page.min(pages - 1);
    let start = page * per_page;
    (start, (start + per_page).min(len), page, pages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use balance_alert_model::alert::Snooze;
    use balance_alert_model::wire::{Sparkline, TrendPoint};

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
}
