-- The fingerprint of the project config its last check ran with: a config whose fingerprint
-- differs makes the project due at once (NULL: unknown, recorded before this column).
ALTER TABLE schedule ADD COLUMN config_fingerprint TEXT;
