//! Alert delivery: turns stored alert records into messages people receive. One [`Channel`]
//! per receiver type (`channels/`), [`message`] for what a message says (zh/en), and the
//! deliverer that drains the store's outbox. The local `serve`/`check` and the notifier Lambda
//! use this crate unchanged.

pub mod channel;
pub mod channels;
pub mod deliver;
pub mod digest;
pub mod mailbox;
pub mod message;
mod notifier;
pub mod route;
pub mod worker;

pub use channel::{Channel, SendError};
pub use deliver::{Deliverer, Handover, PassReport};
pub use message::{Message, MessageKind, Severity, Tone};
pub use notifier::Notifier;
