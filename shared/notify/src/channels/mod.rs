//! One file per receiver type; [`build`] makes the channel a config entry describes.

use balance_alert_core::config::delivery::ChannelConfig;

use crate::channel::Channel;

/// The channel for a config entry.
pub fn build(config: &ChannelConfig, http: reqwest::Client) -> Box<dyn Channel> {
    let _ = (config, http);
    todo!("channels are being written")
}
