//! Balance Alert's core: configuration and its sources, provider adapters, the check engine,
//! the run sequence that drives the alert state machine, and the store trait (its backends
//! live in their own crates). Nothing here assumes a long-lived process: what must outlive an
//! invocation is in the store.

pub mod check;
pub mod config;
pub mod exposition;
pub mod forecast;
pub mod health;
pub mod money;
pub mod node;
pub mod observe;
pub mod periodic;
pub mod project;
pub mod providers;
pub mod scrub;
pub mod secret;
pub mod snooze;
pub mod store;
pub mod timezone;

pub use balance_alert_model as model;

#[cfg(test)]
pub(crate) mod test_json {
    //! A proptest strategy for arbitrary JSON, biased towards the keys a parser looks for.

    use proptest::prelude::*;
    use serde_json::Value;

    /// JSON up to four levels deep whose object keys are mostly drawn from `keys`.
    pub fn json(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            any::<i64>().prop_map(Value::from),
            "[a-zA-Z0-9.${}_ -]{0,12}".prop_map(Value::String),
        ];
        let key = prop_oneof![
            3 => prop::sample::select(keys).prop_map(str::to_owned),
            1 => "[a-z_]{1,8}",
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }
}
