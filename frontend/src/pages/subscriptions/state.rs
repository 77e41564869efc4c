//! What the subscriptions page's parts share: the list, the form's state, and running an
//! edit.

use std::future::Future;

use balance_alert_model::wire::SubscriptionRow;
use leptos::prelude::*;

use crate::client::{self, ApiErr};
use crate::components::widgets::Load;
use crate::ctx::Ctx;
use crate::i18n::{fill, t, K};
use crate::validate::{Problem, SubForm};

/// What the page's parts share.
#[derive(Clone, Copy)]
pub(super) struct Subscriptions {
    pub(super) ctx: Ctx,
    pub(super) list: RwSignal<Load<Vec<SubscriptionRow>>>,
    /// The form as typed.
    pub(super) form: RwSignal<SubForm>,
    /// The name of the subscription being edited; None while adding.
    pub(super) editing: RwSignal<Option<String>>,
    /// The form's problems, by field.
    pub(super) problems: RwSignal<Vec<Problem>>,
    /// The outcome of the last edit: `(failed, text)`.
    pub(super) message: RwSignal<Option<(bool, String)>>,
    /// The subscription whose delete awaits confirmation.
    pub(super) confirm_delete: RwSignal<Option<String>>,
}

impl Subscriptions {
    /// Loads the list again.
    pub(super) fn reload(self) {
        leptos::task::spawn_local(async move {
            self.list.set(match client::subscriptions(&self.ctx).await {
                Ok(l) => Load::Ready(l.subscriptions),
                Err(e) => Load::Failed(e),
            });
        });
    }

    /// Runs an edit of subscription `name`; on success says `done` (filled with the name) and
    /// reloads, else says why it failed.
    pub(super) fn edit<T>(
        self,
        name: String,
        done: K,
        call: impl Future<Output = Result<T, ApiErr>> + 'static,
    ) {
        let lang = self.ctx.lang.get_untracked();
        leptos::task::spawn_local(async move {
            match call.await {
                Ok(_) => {
                    self.message
                        .set(Some((false, fill(t(lang, done), &[&name]))));
                    self.reload();
                }
                Err(e) => self.message.set(Some((true, e.text(lang)))),
            }
        });
    }
}
