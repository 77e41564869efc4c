-- Named leases (the checking lease of scheduled runs): who holds one (only that process renews
-- or releases it), its node (a restart frees the node's leases at once), and until when.
-- They replace the per-project claims, whose columns go.
CREATE TABLE lease (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    node TEXT,
    until INTEGER NOT NULL
);
DROP INDEX IF EXISTS idx_schedule_claim_node;
ALTER TABLE schedule DROP COLUMN claim_owner;
ALTER TABLE schedule DROP COLUMN claim_node;
