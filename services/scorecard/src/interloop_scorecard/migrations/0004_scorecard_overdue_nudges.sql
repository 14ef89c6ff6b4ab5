-- Who to remind about a missing scorecard (from the interview events' attendees) and how often they were.
ALTER TABLE expected_scorecards
    ADD COLUMN interviewer_email     text        NOT NULL DEFAULT '',
    ADD COLUMN interviewer_name      text        NOT NULL DEFAULT '',
    ADD COLUMN interviewer_time_zone text        NOT NULL DEFAULT '',
    ADD COLUMN nudges                int         NOT NULL DEFAULT 0,
    ADD COLUMN last_nudged_at        timestamptz;
CREATE INDEX IF NOT EXISTS expected_scorecards_open_due ON expected_scorecards (due_at)
    WHERE status IN ('expected', 'due');
