-- Retention deletes by time alone; these keep `DELETE … WHERE timestamp < ?` an index range
-- instead of a table scan, so every `check` run can prune.
CREATE INDEX idx_balance_ts ON balance_history (timestamp);
CREATE INDEX idx_subscription_history_ts ON subscription_history (timestamp);
