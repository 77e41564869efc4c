//! Overview: every project as a row (a card on a phone), summary counts, search, filters,
//! sorting, 50 rows per page, auto-refresh with ETags and "check now". The rows' logic is
//! `crate::overview_rows`; the filters are `filters.rs`, the table and pager `table.rs`.

mod filters;
mod state;
mod table;

use leptos::prelude::*;

use crate::client::{self, ApiErr};
use crate::components::widgets::{ActionMessage, ErrorNote, Load, Loading};
use crate::ctx::{ctx, utc_offset_minutes, Ctx};
use crate::format::{date_time, parse_rfc3339};
use crate::i18n::{fill, t, K};
use crate::overview_rows::{select, Col, Filter, Row};

use filters::{Controls, Summary};
use state::{load, Overview, REFRESH_EVERY};
use table::{Pager, ProjectTable};

/// "Check now": asks the server to check every project, then reloads (a cooldown says how
/// long to wait).
fn check_now(
    ctx: Ctx,
    checking: RwSignal<bool>,
    message: RwSignal<Option<(bool, String)>>,
    rows: RwSignal<Load<Vec<Row>>>,
    updated: RwSignal<Option<String>>,
) {
    checking.set(true);
    message.set(None);
    leptos::task::spawn_local(async move {
        let result = client::refresh(&ctx).await;
        checking.set(false);
        let lang = ctx.lang.get_untracked();
        match result {
            Ok(text) => {
                message.set(Some((false, fill(t(lang, K::check_done), &[&text]))));
                load(ctx, true, rows, updated).await;
            }
            Err(ApiErr {
                status: 429,
                retry_after,
                ..
            }) => {
                let secs = retry_after.map_or_else(|| "?".to_owned(), |s| s.to_string());
                message.set(Some((true, fill(t(lang, K::cooldown), &[&secs]))));
            }
            Err(e) => message.set(Some((true, e.text(lang)))),
        }
    });
}

#[component]
pub fn OverviewPage() -> impl IntoView {
    let ctx = ctx();
    let rows: RwSignal<Load<Vec<Row>>> = RwSignal::new(Load::Loading);
    let updated = RwSignal::new(None::<String>);
    let filter = RwSignal::new(Filter::default());
    let sort = RwSignal::new((Col::State, true));
    let message = RwSignal::new(None::<(bool, String)>);
    let checking = RwSignal::new(false);

    leptos::task::spawn_local(load(ctx, true, rows, updated));
    if let Ok(handle) = set_interval_with_handle(
        move || leptos::task::spawn_local(load(ctx, false, rows, updated)),
        REFRESH_EVERY,
    ) {
        on_cleanup(move || handle.clear());
    }

    let selected = Memo::new(move |_| {
        let (col, desc) = sort.get();
        let f = filter.get();
        rows.with(|r| match r {
            Load::Ready(r) => select(r, &f, col, desc),
            _ => Vec::new(),
        })
    });
    let state = Overview {
        rows,
        filter,
        sort,
        page: RwSignal::new(0usize),
        selected,
    };

    // The page's frame re-renders only when loading starts, fails or ends, never on a
    // refresh with new figures (that would recreate the search box under the reader's hands).
    let phase = Memo::new(move |_| {
        rows.with(|r| match r {
            Load::Loading => Some(None),
            Load::Failed(e) => Some(Some(e.clone())),
            Load::Ready(_) => None,
        })
    });

    let retry = Callback::new(move |_| {
        rows.set(Load::Loading);
        leptos::task::spawn_local(load(ctx, true, rows, updated));
    });

    view! {
        <section class="overview">
            <div class="titlebar">
                <h1>{move || ctx.t(K::nav_overview)}</h1>
                <span class="muted" id="last-update">{move || {
                    let lang = ctx.lang.get();
                    let when = updated.get().and_then(|u| parse_rfc3339(&u)).map_or_else(
                        || t(lang, K::never).to_owned(),
                        |ts| date_time(ts, utc_offset_minutes(), lang));
                    fill(t(lang, K::last_update), &[&when])
                }}</span>
                <button id="check-now" class="primary" disabled=move || checking.get()
                    on:click=move |_| check_now(ctx, checking, message, rows, updated)>
                    {move || if checking.get() { ctx.t(K::checking) } else { ctx.t(K::check_now) }}
                </button>
            </div>
            <ActionMessage message=message/>
            {move || match phase.get() {
                Some(None) => view! { <Loading/> }.into_any(),
                Some(Some(e)) => view! { <ErrorNote err=e retry=retry/> }.into_any(),
                None => view! {
                    <Summary state=state/>
                    <Controls state=state/>
                    <ProjectTable state=state/>
                    <Pager state=state/>
                }.into_any(),
            }}
        </section>
    }
}
