//! Subscriptions: days until renewal and status (`table.rs`); add, edit, delete (confirmed in
//! place) and mark renewed. The form (`form.rs`) is checked before sending, each message
//! naming its field.

mod form;
mod state;
mod table;

use leptos::prelude::*;

use crate::components::widgets::{ActionMessage, Load};
use crate::ctx::ctx;
use crate::i18n::K;
use crate::validate::SubForm;

use form::SubscriptionForm;
use state::Subscriptions;
use table::SubscriptionTable;

#[component]
pub fn SubscriptionsPage() -> impl IntoView {
    let ctx = ctx();
    let page = Subscriptions {
        ctx,
        list: RwSignal::new(Load::Loading),
        form: RwSignal::new(SubForm::default()),
        editing: RwSignal::new(None),
        problems: RwSignal::new(Vec::new()),
        message: RwSignal::new(None),
        confirm_delete: RwSignal::new(None),
    };
    page.reload();
    view! {
        <section class="subscriptions">
            <h1>{move || ctx.t(K::nav_subscriptions)}</h1>
            <ActionMessage message=page.message/>
            <SubscriptionTable page=page/>
            <SubscriptionForm page=page/>
        </section>
    }
}
