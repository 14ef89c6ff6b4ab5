-- An Idempotency-Key belongs to the API key that sent it (two keys of one tenant never replay each
-- other's answers), and an attempt in progress holds a lease: a gateway that died mid-request leaves
-- the key retryable once the lease ran out instead of answering 409 forever.
ALTER TABLE idempotency_keys ADD COLUMN principal text NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ADD COLUMN lease_until timestamptz;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (tenant_id, principal, key);
