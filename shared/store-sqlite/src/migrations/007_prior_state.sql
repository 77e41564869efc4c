-- While FAILING: the level (low/critical) before it, so recovery needs the margin (NULL otherwise).
ALTER TABLE project_state ADD COLUMN prior_state TEXT;
