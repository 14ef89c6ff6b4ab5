-- Availability profile of interviewers, holds, link settings, job panels and reminders.
ALTER TABLE interviewers
    ADD COLUMN overrides       jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- "YYYY-MM-DD" -> [{start, end}]
    ADD COLUMN out_of_office   jsonb       NOT NULL DEFAULT '[]'::jsonb,  -- [{start, end}] ISO instants
    ADD COLUMN training        jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- interview type -> stage
    ADD COLUMN calendar        jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- {kind, calendar_id, url, credential, user}
    ADD COLUMN calendar_reason text        NOT NULL DEFAULT '',
    ADD COLUMN calendar_checked_at timestamptz;

-- Interviewers without an external calendar source are read from the blocks pushed to us (manual).
UPDATE interviewers SET calendar_status = 'known' WHERE calendar = '{}'::jsonb;

CREATE TABLE holds (
    tenant_id       text        NOT NULL,
    id              uuid        NOT NULL,
    link_id         uuid        NOT NULL,
    during          tstzrange   NOT NULL,
    interviewer_ids text[]      NOT NULL,
    expires_at      timestamptz NOT NULL,
    status          text        NOT NULL DEFAULT 'active'
                    CHECK (status IN ('active', 'confirmed', 'released', 'expired')),
    booking_id      uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX holds_link ON holds (tenant_id, link_id) WHERE status = 'active';
CREATE INDEX interviewer_commitments_expiring ON interviewer_commitments (expires_at)
    WHERE active AND hold_id IS NOT NULL;

ALTER TABLE scheduling_links
    ADD COLUMN candidate_name text  NOT NULL DEFAULT '',
    ADD COLUMN settings      jsonb  NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN connection_id text   NOT NULL DEFAULT '';
CREATE INDEX scheduling_links_application ON scheduling_links (tenant_id, application_id, round);

ALTER TABLE bookings
    ADD COLUMN link_id         uuid,
    ADD COLUMN candidate_email text NOT NULL DEFAULT '',
    ADD COLUMN candidate_name  text NOT NULL DEFAULT '';
CREATE INDEX bookings_upcoming ON bookings (lower(during)) WHERE status = 'scheduled';

CREATE TABLE job_panels (
    tenant_id  text        NOT NULL,
    job_id     text        NOT NULL,
    config     jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, job_id)
);

-- One row per reminder lead and start time of a booking: a reminder is emitted once (a reschedule
-- moves the start, so the new time gets its own reminders).
CREATE TABLE reminders (
    tenant_id  text        NOT NULL,
    booking_id uuid        NOT NULL,
    lead       text        NOT NULL,
    starts_at  timestamptz NOT NULL,
    emitted    boolean     NOT NULL,  -- false: skipped because a shorter lead was already due
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, booking_id, lead, starts_at)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['holds', 'job_panels', 'reminders']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
            USING (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')
            WITH CHECK (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')$p$, t);
    END LOOP;
END $$;
