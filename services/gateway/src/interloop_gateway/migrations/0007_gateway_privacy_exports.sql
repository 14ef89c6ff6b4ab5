-- Access requests (GDPR Art. 15, CCPA): one row per request, with the statutory deadline (one month) and
-- when it was fulfilled. The bundle itself is not stored: it is gathered from every service when fetched,
-- so no second copy of the person's data is kept, and an erasure leaves nothing behind here.
CREATE TABLE privacy_exports (
    tenant_id    text        NOT NULL,
    id           uuid        NOT NULL,
    candidate_id text        NOT NULL,
    requested_by text        NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    due_by       timestamptz NOT NULL,
    fulfilled_at timestamptz,
    counts       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE privacy_exports ENABLE ROW LEVEL SECURITY;
ALTER TABLE privacy_exports FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON privacy_exports
    USING (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on');
