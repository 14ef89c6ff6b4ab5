-- Events written into interviewers' own calendars (Google, Microsoft Graph, CalDAV): one row per booking
-- and interviewer holding what the calendar should show (action) and what we last learned from it. The
-- use cases stage a row in the booking's transaction; a worker claims due rows, calls the vendor outside
-- any transaction and records the outcome (never a vendor body: reason is a fixed code).
CREATE TABLE calendar_writes (
    tenant_id       text        NOT NULL,
    booking_id      uuid        NOT NULL,
    interviewer_id  text        NOT NULL,
    -- our id of the event: Google event id, Graph transactionId, CalDAV UID (base32hex, stable)
    event_id        text        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('google', 'graph', 'caldav')),
    action          text        NOT NULL CHECK (action IN ('upsert', 'delete')),
    -- bumped by every staged change: an outcome of an older generation does not settle the row
    generation      int         NOT NULL DEFAULT 0,
    status          text        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'written', 'deleted', 'failed')),
    attempts        int         NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claimed_until   timestamptz,
    vendor_event_id text        NOT NULL DEFAULT '',
    etag            text        NOT NULL DEFAULT '',
    conference_url  text        NOT NULL DEFAULT '',
    reason          text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, booking_id, interviewer_id)
);
CREATE INDEX calendar_writes_due ON calendar_writes (next_attempt_at) WHERE status = 'pending';

ALTER TABLE calendar_writes ENABLE ROW LEVEL SECURITY;
ALTER TABLE calendar_writes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON calendar_writes
    USING (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on');
