-- Retention (EEOC: hiring records one year after the decision, two for federal contractors) and legal holds:
-- a per-tenant policy, holds on a candidate, a job or the whole tenant, and a report of every purge.
CREATE TABLE retention_policies (
    tenant_id          text        PRIMARY KEY,
    keep_days          int         NOT NULL CHECK (keep_days BETWEEN 1 AND 36500),
    federal_contractor boolean     NOT NULL DEFAULT false,
    updated_by         text        NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE legal_holds (
    tenant_id   text        NOT NULL,
    id          uuid        NOT NULL,
    scope       text        NOT NULL CHECK (scope IN ('candidate', 'job', 'tenant')),
    subject     text        NOT NULL DEFAULT '',  -- the candidate or job id; '' for the tenant
    reason      text        NOT NULL,
    placed_by   text        NOT NULL,
    placed_at   timestamptz NOT NULL DEFAULT now(),
    released_by text,
    released_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    CHECK ((scope = 'tenant') = (subject = ''))
);
CREATE INDEX legal_holds_active ON legal_holds (tenant_id, scope, subject) WHERE released_at IS NULL;
CREATE TABLE retention_purges (
    tenant_id text        NOT NULL,
    id        uuid        NOT NULL,
    ran_at    timestamptz NOT NULL DEFAULT now(),
    ran_by    text        NOT NULL,
    dry_run   boolean     NOT NULL,
    keep_days int         NOT NULL,
    purged    jsonb       NOT NULL,  -- [{candidate_id, erasure_id, closed_at}]
    held      jsonb       NOT NULL,  -- [{candidate_id, closed_at, reasons}]
    PRIMARY KEY (tenant_id, id)
);
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['retention_policies', 'legal_holds', 'retention_purges'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
            USING (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')
            WITH CHECK (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')$p$, t);
    END LOOP;
END $$;
