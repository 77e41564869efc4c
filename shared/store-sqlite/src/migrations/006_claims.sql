-- Who holds a project's claim (NULL: not claimed, `next_check_at` is its next check time):
-- the claiming process (only it renews the lease) and its node (a restart frees the node's
-- claims at once).
ALTER TABLE schedule ADD COLUMN claim_owner TEXT;
ALTER TABLE schedule ADD COLUMN claim_node TEXT;
CREATE INDEX idx_schedule_claim_node ON schedule (claim_node) WHERE claim_node IS NOT NULL;
