//! Balance Alert's core: configuration, provider adapters, the check engine, the check run
//! that drives the alert state machine, and the store trait with its embedded SQLite backend.

pub mod config;
pub mod engine;
pub mod monitor;
pub mod providers;
pub mod scheduler;
pub mod service;
pub mod store;

pub use balance_alert_model as model;
