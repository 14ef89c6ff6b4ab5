-- Erasure requests (POST /v1/privacy/erasures): one per request, with a step per service that must erase;
-- the request completes when every step is done. They hold the opaque candidate id, never contact data.
CREATE TABLE erasure_requests (
    tenant_id    text        NOT NULL,
    id           uuid        NOT NULL,
    candidate_id text        NOT NULL,
    requested_by text        NOT NULL,
    reason       text        NOT NULL DEFAULT '',
    status       text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed')),
    requested_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE erasure_steps (
    tenant_id  text        NOT NULL,
    erasure_id uuid        NOT NULL,
    service    text        NOT NULL,
    done_at    timestamptz,
    PRIMARY KEY (tenant_id, erasure_id, service),
    FOREIGN KEY (tenant_id, erasure_id) REFERENCES erasure_requests (tenant_id, id) ON DELETE CASCADE
);
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['erasure_requests', 'erasure_steps'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
            USING (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')
            WITH CHECK (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')$p$, t);
    END LOOP;
END $$;
