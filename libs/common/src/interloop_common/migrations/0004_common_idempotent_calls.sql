-- Idempotent RPCs (interloop_common.idempotency): a call that carries an idempotency key is recorded,
-- with the digest of its request and its response, in the same transaction as its own writes, so a retry
-- after a timeout that came after the commit gets the first response instead of running twice.
CREATE TABLE IF NOT EXISTS idempotent_calls (
    tenant_id      text        NOT NULL,
    method         text        NOT NULL,
    key            text        NOT NULL,
    request_digest bytea       NOT NULL,
    response       bytea,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, method, key)
);
ALTER TABLE idempotent_calls ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotent_calls FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON idempotent_calls;
CREATE POLICY tenant_isolation ON idempotent_calls
    USING (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on');
-- the retention sweep finds old rows by time (see 0002)
CREATE INDEX IF NOT EXISTS idempotent_calls_created_brin ON idempotent_calls USING brin (created_at);
