//! Navigation in the browser, over the History API (the routes themselves are `route.rs`):
//! the current path in a signal, links that navigate without a reload, and the back button.
//! (leptos_router did the same for ~70 KB of wasm; the dashboard's five flat routes need none
//! of its nesting.)

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsValue;

use crate::route::Route;

/// The current location path, shared through context.
#[derive(Clone, Copy)]
pub struct Nav {
    pub path: RwSignal<String>,
}

fn location_path() -> String {
    window()
        .location()
        .pathname()
        .unwrap_or_else(|_| "/".into())
}

/// Sets up the router for the app and returns it.
pub fn provide() -> Nav {
    let nav = Nav {
        path: RwSignal::new(location_path()),
    };
    provide_context(nav);
    // Back/forward: the listener lives as long as the page.
    let _ = window_event_listener(ev::popstate, move |_| nav.path.set(location_path()));
    nav
}

/// Goes to `path` (pushed on the history), scrolls to the top and moves focus to the content.
pub fn navigate(path: &str) {
    let nav = expect_context::<Nav>();
    if nav.path.get_untracked() != path {
        if let Ok(history) = window().history() {
            let _ = history.push_state_with_url(&JsValue::NULL, "", Some(path));
        }
        nav.path.set(path.to_owned());
    }
    window().scroll_to_with_x_and_y(0.0, 0.0);
    if let Some(main) = document().get_element_by_id("main") {
        use wasm_bindgen::JsCast;
        if let Ok(el) = main.dyn_into::<web_sys::HtmlElement>() {
            let _ = el.focus();
        }
    }
}

/// A link inside the app: a real `<a href>` (open in a new tab works), navigating in place on a
/// plain click, with `aria-current="page"` when it is the current page.
#[component]
pub fn Link(
    /// The app path, e.g. `/projects/{id}`.
    href: String,
    /// Current only on this exact path (else also on paths below it).
    #[prop(optional)]
    exact: bool,
    /// The link's content.
    children: Children,
) -> impl IntoView {
    let nav = expect_context::<Nav>();
    let target = href.clone();
    let here = href.clone();
    view! {
        <a href=href
            aria-current=move || Route::is_current(&nav.path.get(), &here, exact).then_some("page")
            on:click=move |e: ev::MouseEvent| {
                if e.button() == 0 && !(e.ctrl_key() || e.meta_key() || e.shift_key() || e.alt_key()) {
                    e.prevent_default();
                    navigate(&target);
                }
            }>
            {children()}
        </a>
    }
}
