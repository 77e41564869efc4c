//! Domain types and pure logic that both the server and the WASM dashboard use.
//!
//! Nothing here does I/O, reads a clock or depends on tokio/AWS: callers pass `today`/`now` in,
//! which keeps every function deterministic and lets the crate build for `wasm32-unknown-unknown`.

pub mod alert;
pub mod balance;
pub mod forecast;
pub mod report;
pub mod schedule;
pub mod subscription;
pub mod text;
pub mod transition;
pub mod trend;
pub mod wire;

pub use alert::{AlertDetails, AlertKind, AlertRecord, AlertState, AlertStatus, Delivery};
pub use balance::{need_alarm, project_id, to_f64, Balance, BalanceKind, Decimal};
pub use report::{CheckReport, ProjectReport, Summary};
pub use text::Language;
pub use wire::BalancePoint;
