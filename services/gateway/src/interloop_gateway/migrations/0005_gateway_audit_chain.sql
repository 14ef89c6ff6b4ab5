-- The audit log becomes a tamper-evident hash chain per tenant (written and checked by
-- interloop_common.audit): who (actor), what (action, target), when (at), from where (door, remote),
-- the outcome (status) and the request id, each entry hashed together with the previous entry's hash.
-- `id` is the entry's position in its tenant's chain (1, 2, 3, ...), so a missing number is a deleted entry.

-- Nothing has written audit_log before this migration; rows that predate the chain could only be
-- chained by forging hashes for them, so a table that holds some stops here instead of hiding that.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM audit_log) THEN
        RAISE EXCEPTION 'audit_log holds % rows written before the hash chain; move them to another table, empty audit_log, then migrate again',
            (SELECT count(*) FROM audit_log);
    END IF;
END $$;

ALTER TABLE audit_log ALTER COLUMN id DROP DEFAULT;
DROP SEQUENCE audit_log_id_seq;
ALTER TABLE audit_log
    -- `at` is hashed: only append() may choose it
    ALTER COLUMN at DROP DEFAULT,
    ADD CONSTRAINT audit_log_id_position CHECK (id >= 1),
    ADD COLUMN door       text  NOT NULL CONSTRAINT audit_log_door CHECK (door IN ('rest', 'partner-grpc', 'webhook', 'cli')),
    -- the peer as the door saw it (text, not inet: what is hashed is what is stored, byte for byte)
    ADD COLUMN remote     text  NOT NULL,
    ADD COLUMN request_id text  NOT NULL,
    ADD COLUMN prev_hash  bytea NOT NULL CONSTRAINT audit_log_prev_hash_sha256 CHECK (length(prev_hash) = 32),
    ADD COLUMN hash       bytea NOT NULL CONSTRAINT audit_log_hash_sha256 CHECK (length(hash) = 32);

-- Row-level security as on every tenant table, but only for reading and appending: with FORCE, no
-- policy lets even the owner UPDATE or DELETE an entry.
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation_read ON audit_log FOR SELECT
    USING (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on');
CREATE POLICY tenant_isolation_append ON audit_log FOR INSERT
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on');

-- The service's role owns its tables (it migrates and serves); an owner may give up its own privileges,
-- so the serving role can INSERT and SELECT entries but UPDATE, DELETE and TRUNCATE answer "permission
-- denied". An owner can grant them back and a superuser is not bound at all: the hash chain is what makes
-- such an edit visible (`interloop audit verify`).
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM CURRENT_USER;
