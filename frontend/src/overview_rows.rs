//! The rows of the overview table (the page is `pages/overview/`): one [`Row`] per project
//! built from the API's wire types, and the filtering, sorting, counting and paging the page
//! does on every keystroke. Pure, so a 1,000-row filter is tested (and cheap) on the host.

use std::cmp::Ordering;
use std::collections::HashMap;

use balance_alert_model::alert::AlertState;
use balance_alert_model::wire::{CreditRow, ForecastView, Sparklines};
use balance_alert_model::{to_f64, BalanceKind, BalancePoint};

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
mod tests;
