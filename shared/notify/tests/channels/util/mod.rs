//! Local receivers for the channel tests: HTTP and SMTP, loopback only.

pub mod receiver;
pub mod smtp;
