//! Cross-crate integration tests, compiled as one binary (as ripgrep does): real HTTP against
//! the fake provider server, real SQLite files, the real `balance-alert` binary.

mod alerts;
mod api;
mod claims;
mod cli;
mod config;
mod delivery;
mod dynamodb;
mod engine;
mod limits;
mod metrics;
mod providers;
mod rules;
mod secrets;
mod serve;
mod store;
mod template;
mod util;
