//! What the project page's parts share: the window shown, loading it, and running an edit.

use std::future::Future;

use balance_alert_model::wire::{AlertRow, CreditRow, TrendData};
use leptos::prelude::*;

use crate::client::{self, ApiErr};
use crate::components::widgets::Load;
use crate::ctx::Ctx;
use crate::i18n::{t, K};

/// Everything the page shows for one window.
#[derive(Clone)]
pub(super) struct Detail {
    pub(super) trend: TrendData,
    pub(super) alerts: Vec<AlertRow>,
    pub(super) credit: Option<CreditRow>,
}

async fn load(ctx: Ctx, id: String, days: u32) -> Result<Detail, ApiErr> {
    let trend = client::trend(&ctx, &id, days).await?;
    let alerts = client::alert_history(&ctx, Some(&id), days, 200).await?;
    let credits = client::credits(&ctx).await?;
    let credit = credits
        .projects
        .into_iter()
        .find(|c| c.project_id == trend.data.project_id);
    Ok(Detail {
        trend: trend.data,
        alerts: alerts.data,
        credit,
    })
}

/// What the page's parts share.
#[derive(Clone, Copy)]
pub(super) struct Project {
    pub(super) ctx: Ctx,
    /// As in the URL: its id, `provider:name` or unique name.
    pub(super) id: StoredValue<String>,
    pub(super) days: RwSignal<u32>,
    pub(super) detail: RwSignal<Load<Detail>>,
    /// The outcome of the last edit: `(failed, text)`.
    pub(super) message: RwSignal<Option<(bool, String)>>,
}

impl Project {
    /// Loads the window again (the figures stay on screen meanwhile).
    pub(super) fn reload(self) {
        let (id, days) = (self.id.get_value(), self.days.get_untracked());
        leptos::task::spawn_local(async move {
            let result = load(self.ctx, id, days).await;
            self.detail.set(match result {
                Ok(d) => Load::Ready(d),
                Err(e) => Load::Failed(e),
            });
        });
    }

    /// Runs an edit; on success says "saved" and reloads, else says why it failed.
    pub(super) fn edit<T>(self, call: impl Future<Output = Result<T, ApiErr>> + 'static) {
        let lang = self.ctx.lang.get_untracked();
        leptos::task::spawn_local(async move {
            match call.await {
                Ok(_) => {
                    self.message
                        .set(Some((false, t(lang, K::saved).to_owned())));
                    self.reload();
                }
                Err(e) => self.message.set(Some((true, e.text(lang)))),
            }
        });
    }
}
