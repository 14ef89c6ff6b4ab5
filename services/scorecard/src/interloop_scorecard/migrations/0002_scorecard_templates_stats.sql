-- Templates (versioned), scorecard versions bound to a template version, hiring decisions, persisted
-- incremental statistics, HRIS outcomes, and demographics kept apart from every scorecard table.
CREATE TABLE templates (
    tenant_id  text        NOT NULL,
    id         uuid        NOT NULL,
    version    int         NOT NULL CHECK (version >= 1),
    job_id     text        NOT NULL,
    round      text        NOT NULL,
    dimensions jsonb       NOT NULL,
    created_by text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id, version)
);
CREATE INDEX templates_by_job_round ON templates (tenant_id, job_id, round, created_at DESC);

ALTER TABLE scorecards
    ADD COLUMN template_id        uuid,
    ADD COLUMN template_version   int,
    ADD COLUMN interview_ended_at timestamptz,
    ADD COLUMN updated_at         timestamptz NOT NULL DEFAULT now();
CREATE INDEX scorecards_by_candidate ON scorecards (tenant_id, candidate_id);

-- The label given on a label scale (the ordinal lives in `score`).
ALTER TABLE ratings ADD COLUMN label text NOT NULL DEFAULT '';

CREATE TABLE decisions (
    tenant_id    text        NOT NULL,
    id           bigserial,
    candidate_id text        NOT NULL,
    job_id       text        NOT NULL,
    decision     text        NOT NULL CHECK (decision IN ('advance', 'hire', 'reject')),
    decided_by   text        NOT NULL,
    reason       text        NOT NULL DEFAULT '',
    decided_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX decisions_by_job ON decisions (tenant_id, job_id, candidate_id, decided_at DESC);

-- Accumulator state per (tenant, job, round, dimension), updated in the transaction of each submission or
-- amendment, so reading a statistic never re-reads the tenant's scorecards.
CREATE TABLE dimension_stats (
    tenant_id  text        NOT NULL,
    job_id     text        NOT NULL,
    round      text        NOT NULL,
    dimension  text        NOT NULL,
    n_ratings  int         NOT NULL DEFAULT 0,
    state      jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, job_id, round, dimension)
);

CREATE TABLE outcomes (
    tenant_id    text             NOT NULL,
    candidate_id text             NOT NULL,
    outcome      text             NOT NULL,
    value        double precision NOT NULL,
    recorded_at  timestamptz      NOT NULL,
    PRIMARY KEY (tenant_id, candidate_id, outcome)
);

-- Self-identified demographics for adverse-impact analysis: never joined into scorecard reads, served only
-- to callers holding the compliance scope.
CREATE TABLE candidate_demographics (
    tenant_id    text        NOT NULL,
    candidate_id text        NOT NULL,
    attributes   jsonb       NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, candidate_id)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['templates', 'decisions', 'dimension_stats', 'outcomes', 'candidate_demographics']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
            USING (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')
            WITH CHECK (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')$p$, t);
    END LOOP;
END $$;
