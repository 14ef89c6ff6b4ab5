-- Erased candidates: the tombstone every writer and sender of a service checks, so that what is in flight
-- when an erasure lands (an event already on Kafka, an email already planned, a request already open)
-- writes and sends nothing about the person afterwards. It holds the opaque candidate id only.
CREATE TABLE IF NOT EXISTS erased_candidates (
    tenant_id    text        NOT NULL,
    candidate_id text        NOT NULL,
    source       text        NOT NULL,  -- what asked: ats:<provider>, api, retention
    erased_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, candidate_id)
);
ALTER TABLE erased_candidates ENABLE ROW LEVEL SECURITY;
ALTER TABLE erased_candidates FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON erased_candidates;
CREATE POLICY tenant_isolation ON erased_candidates
    USING (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on');
