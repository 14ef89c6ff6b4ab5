-- Order per aggregate (interloop_common.inbox, ConsumerSpec.ordered): each consumer group holds the
-- newest version it applied of each aggregate (a booking's SEQUENCE, ...), in the transaction that
-- applied it. An event older than that version (a dead letter replayed after the aggregate moved on,
-- a record that crossed partitions) is parked, not applied: a row here says what, and which version
-- was held instead.
CREATE TABLE IF NOT EXISTS aggregate_versions (
    consumer   text        NOT NULL,
    tenant_id  text        NOT NULL,
    subject    text        NOT NULL,
    version    bigint      NOT NULL,
    event_id   uuid        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, consumer, subject)
);
CREATE TABLE IF NOT EXISTS parked_events (
    consumer     text        NOT NULL,
    tenant_id    text        NOT NULL,
    event_id     uuid        NOT NULL,
    event_type   text        NOT NULL,
    subject      text        NOT NULL,
    version      bigint      NOT NULL,
    held_version bigint      NOT NULL,
    parked_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, consumer, event_id)
);
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['aggregate_versions', 'parked_events']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %I', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I'
            ' USING (tenant_id = current_setting(''app.tenant_id'', true) OR current_setting(''app.system'', true) = ''on'')'
            ' WITH CHECK (tenant_id = current_setting(''app.tenant_id'', true) OR current_setting(''app.system'', true) = ''on'')',
            t
        );
    END LOOP;
END $$;
-- the retention sweep finds old parked rows by time
CREATE INDEX IF NOT EXISTS parked_events_parked_brin ON parked_events USING brin (parked_at);
