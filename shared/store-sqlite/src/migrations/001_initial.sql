-- Schema mirrors the Python tool's tables (balance_history, alert_history, subscription_history)
-- plus the per-project state the alert state machine needs.
CREATE TABLE project_state (
    project_id           TEXT PRIMARY KEY,
    project_name         TEXT NOT NULL,
    provider             TEXT NOT NULL,
    state                TEXT NOT NULL,
    balance              REAL,
    currency             TEXT NOT NULL,
    consecutive_failures INTEGER NOT NULL,
    last_alert_at        INTEGER,
    last_checked_at      INTEGER NOT NULL,
    last_success_at      INTEGER,
    last_error           TEXT,
    version              INTEGER NOT NULL
);

CREATE TABLE balance_history (
    id           INTEGER PRIMARY KEY,
    project_id   TEXT NOT NULL,
    project_name TEXT NOT NULL,
    provider     TEXT NOT NULL,
    balance      REAL NOT NULL,
    threshold    REAL NOT NULL,
    currency     TEXT NOT NULL,
    timestamp    INTEGER NOT NULL
);
CREATE INDEX idx_balance_project_ts ON balance_history (project_id, timestamp);
CREATE INDEX idx_balance_provider_ts ON balance_history (provider, timestamp);

CREATE TABLE alert_history (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL,
    project_name TEXT NOT NULL,
    provider     TEXT NOT NULL,
    alert_type   TEXT NOT NULL,
    state        TEXT NOT NULL,
    balance      REAL,
    threshold    REAL NOT NULL,
    currency     TEXT NOT NULL,
    message      TEXT NOT NULL,
    status       TEXT NOT NULL,
    timestamp    INTEGER NOT NULL
);
CREATE INDEX idx_alert_project_type_ts ON alert_history (project_id, alert_type, timestamp);
CREATE INDEX idx_alert_ts ON alert_history (timestamp);

CREATE TABLE subscription_state (
    subscription_id    TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    next_renewal_date  TEXT NOT NULL,
    days_until_renewal INTEGER NOT NULL,
    reminded_for       TEXT,
    updated_at         INTEGER NOT NULL
);

CREATE TABLE subscription_history (
    id                 INTEGER PRIMARY KEY,
    subscription_id    TEXT NOT NULL,
    days_until_renewal INTEGER NOT NULL,
    timestamp          INTEGER NOT NULL
);
CREATE INDEX idx_subscription_ts ON subscription_history (subscription_id, timestamp);
