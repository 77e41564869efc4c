-- What a reading says about itself besides its figure: how it was arrived at (note), whether it
-- is an estimate from a recorded figure, and whether no threshold applies (a key without a
-- limit). `/api/credits` and `/metrics` show them for each project's latest reading.
ALTER TABLE balance_history ADD COLUMN note TEXT;
ALTER TABLE balance_history ADD COLUMN estimate INTEGER NOT NULL DEFAULT 0;
ALTER TABLE balance_history ADD COLUMN unlimited INTEGER NOT NULL DEFAULT 0;
