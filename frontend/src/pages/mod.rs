//! One module per page.

pub mod alerts;
pub mod overview;
pub mod project;
pub mod settings;
pub mod subscriptions;
