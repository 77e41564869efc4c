//! Mounts the dashboard (wasm32); on the host this binary does nothing.

fn main() {
    #[cfg(target_arch = "wasm32")]
    balance_alert_frontend::app::mount();
}
