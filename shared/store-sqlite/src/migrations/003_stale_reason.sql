-- Why the latest scheduled check was not attempted (circuit open); NULL after a real check.
ALTER TABLE project_state ADD COLUMN stale_reason TEXT;
