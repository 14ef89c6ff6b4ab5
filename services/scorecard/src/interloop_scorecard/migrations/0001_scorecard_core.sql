-- Expected scorecards (opened by interview events), submitted scorecards with versioned ratings,
-- and per-tenant activity counters.
CREATE TABLE expected_scorecards (
    tenant_id      text        NOT NULL,
    booking_id     text        NOT NULL,
    interviewer_id text        NOT NULL,
    candidate_id   text        NOT NULL,
    job_id         text        NOT NULL DEFAULT '',
    round          text        NOT NULL DEFAULT '',
    status         text        NOT NULL DEFAULT 'expected'
                   CHECK (status IN ('expected', 'due', 'submitted', 'cancelled')),
    interview_end  timestamptz,
    due_at         timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, booking_id, interviewer_id)
);

-- A counter every applied interview event bumps: a redelivered event that slipped past the inbox would
-- show here as an over-count, which is what the crash test checks.
CREATE TABLE tenant_activity (
    tenant_id            text   NOT NULL PRIMARY KEY,
    interviews_seen      bigint NOT NULL DEFAULT 0,
    scorecards_submitted bigint NOT NULL DEFAULT 0
);

CREATE TABLE scorecards (
    tenant_id      text        NOT NULL,
    id             uuid        NOT NULL,
    version        int         NOT NULL,
    booking_id     text        NOT NULL,
    interviewer_id text        NOT NULL,
    candidate_id   text        NOT NULL,
    job_id         text        NOT NULL DEFAULT '',
    round          text        NOT NULL DEFAULT '',
    recommendation text        NOT NULL DEFAULT '',
    confidence     double precision,
    status         text        NOT NULL CHECK (status IN ('draft', 'submitted')),
    submitted_at   timestamptz,
    amended_by     text,
    amend_reason   text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id, version)
);
CREATE UNIQUE INDEX scorecards_one_per_interviewer ON scorecards (tenant_id, booking_id, interviewer_id, version);

CREATE TABLE ratings (
    tenant_id    text             NOT NULL,
    scorecard_id uuid             NOT NULL,
    version      int              NOT NULL,
    dimension    text             NOT NULL,
    score        double precision NOT NULL,
    evidence     text             NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, scorecard_id, version, dimension),
    FOREIGN KEY (tenant_id, scorecard_id, version) REFERENCES scorecards (tenant_id, id, version)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['expected_scorecards', 'tenant_activity', 'scorecards', 'ratings']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
            USING (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')
            WITH CHECK (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')$p$, t);
    END LOOP;
END $$;
