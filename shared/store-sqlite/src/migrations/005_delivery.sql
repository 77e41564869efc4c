-- Delivery: each alert's per-channel outcomes and its details (owner, days left, due date),
-- and each project's snooze and the run-out date it was last warned of; JSON text, read and
-- written whole.
ALTER TABLE alert_history ADD COLUMN details TEXT;
ALTER TABLE alert_history ADD COLUMN deliveries TEXT;
ALTER TABLE project_state ADD COLUMN snooze TEXT;
ALTER TABLE project_state ADD COLUMN forecast_for TEXT;
