-- Interviewers, busy blocks, bookings (never double-booked), holds and scheduling links.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE interviewers (
    tenant_id     text        NOT NULL,
    id            text        NOT NULL,
    email         text        NOT NULL,
    display_name  text        NOT NULL DEFAULT '',
    time_zone     text        NOT NULL,
    working_hours jsonb       NOT NULL DEFAULT '[]'::jsonb,
    daily_cap     int         NOT NULL DEFAULT 0,
    weekly_cap    int         NOT NULL DEFAULT 0,
    interview_types text[]    NOT NULL DEFAULT '{}',
    calendar_status text      NOT NULL DEFAULT 'unknown',
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE busy_blocks (
    tenant_id      text      NOT NULL,
    interviewer_id text      NOT NULL,
    source         text      NOT NULL,
    during         tstzrange NOT NULL,
    PRIMARY KEY (tenant_id, interviewer_id, source, during),
    FOREIGN KEY (tenant_id, interviewer_id) REFERENCES interviewers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX busy_blocks_during ON busy_blocks USING gist (tenant_id, interviewer_id, during);

CREATE TABLE bookings (
    tenant_id      text        NOT NULL,
    id             uuid        NOT NULL,
    candidate_id   text        NOT NULL,
    application_id text        NOT NULL DEFAULT '',
    job_id         text        NOT NULL DEFAULT '',
    round          text        NOT NULL DEFAULT '',
    interview_type text        NOT NULL DEFAULT '',
    during         tstzrange   NOT NULL,
    status         text        NOT NULL DEFAULT 'scheduled'
                   CHECK (status IN ('scheduled', 'cancelled', 'completed')),
    sequence       int         NOT NULL DEFAULT 0,
    reschedules    int         NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

-- One row per interviewer of a booking (or hold). The exclusion constraint is the guarantee that no
-- interviewer is ever double-booked, whatever the concurrency: overlapping active ranges cannot commit.
CREATE TABLE interviewer_commitments (
    tenant_id      text        NOT NULL,
    interviewer_id text        NOT NULL,
    booking_id     uuid,
    hold_id        uuid,
    during         tstzrange   NOT NULL,
    expires_at     timestamptz,
    active         boolean     NOT NULL DEFAULT true,
    CHECK ((booking_id IS NULL) <> (hold_id IS NULL)),
    CONSTRAINT no_double_booking EXCLUDE USING gist (
        tenant_id WITH =, interviewer_id WITH =, during WITH &&
    ) WHERE (active)
);
CREATE INDEX interviewer_commitments_booking ON interviewer_commitments (tenant_id, booking_id);
CREATE INDEX interviewer_commitments_hold ON interviewer_commitments (tenant_id, hold_id);

CREATE TABLE scheduling_links (
    tenant_id      text        NOT NULL,
    id             uuid        NOT NULL,
    candidate_id   text        NOT NULL,
    application_id text        NOT NULL DEFAULT '',
    job_id         text        NOT NULL DEFAULT '',
    round          text        NOT NULL DEFAULT '',
    candidate_email text       NOT NULL DEFAULT '',
    panel          jsonb       NOT NULL,
    duration_minutes int       NOT NULL,
    expires_at     timestamptz NOT NULL,
    booking_id     uuid,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

-- Row-level security: a transaction sees only the rows of the tenant it set (or everything in system mode).
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['interviewers', 'busy_blocks', 'bookings', 'interviewer_commitments', 'scheduling_links']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
            USING (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')
            WITH CHECK (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')$p$, t);
    END LOOP;
END $$;
