-- API keys a tenant admin manages: named, revoked (by whom), rotated (the old key expires after a grace
-- period), listed by an id that is a fragment of the key's hash (never the key).
ALTER TABLE api_keys
    ADD COLUMN name       text NOT NULL DEFAULT '',
    ADD COLUMN created_by text NOT NULL DEFAULT 'operator',
    ADD COLUMN revoked_by text,
    ADD COLUMN expires_at timestamptz;
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, created_at);
