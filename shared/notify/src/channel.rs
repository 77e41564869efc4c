//! The one interface every receiver type implements, and how a send can fail.

use std::time::Duration;

use async_trait::async_trait;

use crate::message::Message;

/// Why a send did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Try again later: network error, timeout, 5xx, 429 or an in-body throttling code.
    /// `after` is the receiver's Retry-After (header or body) when it gave one.
    #[error("{reason} (will retry)")]
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// Cannot succeed by retrying: bad token, bad signature, unknown chat, malformed request.
    #[error("{reason}")]
    Fatal { reason: String },
}

impl SendError {
    /// The reason, safe to store and show (never a URL with its token, never a secret).
    pub fn reason(&self) -> &str {
        match self {
            SendError::Retry { reason, .. } | SendError::Fatal { reason } => reason,
        }
    }
}

/// A receiver: posts a [`Message`] and classifies the outcome.
#[async_trait]
pub trait Channel: Send + Sync {
    /// The configured name.
    fn name(&self) -> &str;

    /// Sends one message. The message's `key` is stable across retries of the same delivery
    /// (receivers that de-duplicate may use it).
    async fn send(&self, message: &Message) -> Result<(), SendError>;
}
