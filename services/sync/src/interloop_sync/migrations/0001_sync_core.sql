-- Connections to ATS/HRIS vendors (credentials encrypted), webhook deliveries and quarantine.
CREATE TABLE connections (
    tenant_id   text        NOT NULL,
    id          uuid        NOT NULL,
    provider    text        NOT NULL CHECK (provider IN ('greenhouse', 'lever', 'workday', 'bamboohr')),
    mode        text        NOT NULL DEFAULT 'active' CHECK (mode IN ('active', 'shadow')),
    owner       text        NOT NULL,
    base_url    text        NOT NULL DEFAULT '',
    credentials bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX connections_id ON connections (id);

CREATE TABLE webhook_deliveries (
    tenant_id     text        NOT NULL,
    connection_id uuid        NOT NULL,
    delivery_id   text        NOT NULL,
    event_types   text[]      NOT NULL DEFAULT '{}',
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, connection_id, delivery_id)
);

CREATE TABLE quarantine (
    tenant_id     text        NOT NULL,
    id            uuid        NOT NULL,
    connection_id uuid        NOT NULL,
    reason        text        NOT NULL,
    raw_body      bytea       NOT NULL,
    headers       jsonb       NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['connections', 'webhook_deliveries', 'quarantine']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
            USING (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')
            WITH CHECK (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')$p$, t);
    END LOOP;
END $$;
