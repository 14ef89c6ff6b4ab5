-- Partners (ATS vendors on the partner gRPC API) as first-class: registered by the platform, with keys
-- of their own; a tenant grants a partner access with scopes and can revoke it.
CREATE TABLE partners (
    id            text        PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name          text        NOT NULL,
    -- Per-partner rate limit: calls per minute across all its tenants (this pod's share).
    calls_per_minute int      NOT NULL DEFAULT 600 CHECK (calls_per_minute > 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);

CREATE TABLE partner_keys (
    partner_id text        NOT NULL REFERENCES partners (id),
    -- SHA-256 of the key; the key itself is shown once and never stored.
    key_hash   bytea       NOT NULL UNIQUE,
    prefix     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    PRIMARY KEY (partner_id, key_hash)
);

CREATE TABLE partner_grants (
    tenant_id  text        NOT NULL REFERENCES tenants (id),
    partner_id text        NOT NULL REFERENCES partners (id),
    scopes     text[]      NOT NULL CHECK (scopes <@ ARRAY['read', 'schedule', 'push', 'subscribe']::text[]
                                           AND cardinality(scopes) > 0),
    granted_by text        NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    revoked_by text,
    revoked_at timestamptz,
    PRIMARY KEY (tenant_id, partner_id)
);
