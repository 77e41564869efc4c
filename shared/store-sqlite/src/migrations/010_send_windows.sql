-- Sends per channel and minute (unix seconds / 60): the rate limit and storm guard shared by
-- every process on this file. Rows older than an hour are deleted as new windows open.
CREATE TABLE send_window (
    channel TEXT NOT NULL,
    minute INTEGER NOT NULL,
    sent INTEGER NOT NULL,
    PRIMARY KEY (channel, minute)
) WITHOUT ROWID;
