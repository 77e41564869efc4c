//! Every channel type against a local receiver: the payload's shape, its signature
//! (recomputed here, independently), and how each answer is classified. One module per
//! channel type; receivers in `util/`.

mod support;
mod util;

mod custom;
mod dingtalk;
mod discord;
mod email;
mod feishu;
mod http_rules;
mod slack;
mod telegram;
mod webhook;
mod wecom;
