-- Post-hire outcomes recorded through sync (RecordOutcome, HRIS polls): one row per observation, so the
-- same observation reported twice is announced once.
CREATE TABLE outcomes (
    tenant_id      text             NOT NULL,
    candidate_id   text             NOT NULL,
    job_id         text             NOT NULL DEFAULT '',
    outcome        text             NOT NULL,
    recorded_at    timestamptz      NOT NULL,
    application_id text             NOT NULL DEFAULT '',
    value          double precision NOT NULL,
    event_id       uuid             NOT NULL,
    created_at     timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, candidate_id, job_id, outcome, recorded_at)
);
ALTER TABLE outcomes ENABLE ROW LEVEL SECURITY;
ALTER TABLE outcomes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON outcomes
    USING (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on');
