//! What the overview's parts share: the rows and what the reader asked for, and loading
//! them.

use std::time::Duration;

use balance_alert_model::wire::{CreditRow, Credits, Sparklines};
use leptos::prelude::*;

use crate::client;
use crate::components::widgets::Load;
use crate::ctx::{now, Ctx};
use crate::overview_rows::{group_sparklines, sparkline_forecasts, Col, Filter, Row};

/// Rows per page.
pub(super) const PER_PAGE: usize = 50;
/// How often the figures are fetched again (only when they changed: an ETag).
pub(super) const REFRESH_EVERY: Duration = Duration::from_secs(30);

/// What the page's parts share: the rows, what the reader asked for, and what that selects.
#[derive(Clone, Copy)]
pub(super) struct Overview {
    pub(super) rows: RwSignal<Load<Vec<Row>>>,
    pub(super) filter: RwSignal<Filter>,
    /// The sorted column, descending or not.
    pub(super) sort: RwSignal<(Col, bool)>,
    /// 0-based.
    pub(super) page: RwSignal<usize>,
    /// Indices of the rows the filter keeps, in the sort's order.
    pub(super) selected: Memo<Vec<usize>>,
}

fn build_rows(credits: &Credits, sparklines: &Sparklines) -> Vec<Row> {
    let grouped = group_sparklines(sparklines);
    let forecasts = sparkline_forecasts(sparklines);
    let t = now();
    credits
        .projects
        .iter()
        .map(|c: &CreditRow| {
            Row::new(
                c,
                grouped.get(&c.project_id).map_or(&[][..], Vec::as_slice),
                t,
            )
            .with_forecast(forecasts.get(&c.project_id).cloned())
        })
        .collect()
}

/// Loads credits (only when changed, unless `force`) and the week's sparklines (one bounded
/// series per project, whatever the history's length).
pub(super) async fn load(
    ctx: Ctx,
    force: bool,
    rows: RwSignal<Load<Vec<Row>>>,
    updated: RwSignal<Option<String>>,
) {
    let credits = if force {
        client::credits(&ctx).await.map(Some)
    } else {
        client::credits_if_changed(&ctx).await
    };
    let credits = match credits {
        Ok(Some(c)) => c,
        Ok(None) => return,
        Err(e) => {
            rows.set(Load::Failed(e));
            return;
        }
    };
    match client::week_sparklines(&ctx).await {
        Ok(h) => {
            updated.set(credits.last_update.clone());
            rows.set(Load::Ready(build_rows(&credits, &h)));
        }
        Err(e) => rows.set(Load::Failed(e)),
    }
}
