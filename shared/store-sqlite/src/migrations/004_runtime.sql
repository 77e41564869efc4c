-- What a stateless process needs between invocations: each project's next check time (also
-- the claim that stops two checkers checking one project), refresh cooldowns, the config
-- document; and whether a state's reading came from the response cache.
ALTER TABLE project_state ADD COLUMN cached INTEGER NOT NULL DEFAULT 0;

CREATE TABLE schedule (
    project_id    TEXT PRIMARY KEY,
    next_check_at INTEGER NOT NULL
);

CREATE TABLE cooldown (
    key   TEXT PRIMARY KEY,
    until INTEGER NOT NULL
);

CREATE TABLE config_document (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    text       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE INDEX idx_alert_status_ts ON alert_history (status, timestamp);
