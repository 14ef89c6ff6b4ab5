-- Push from the calendars: one open Google watch channel or Graph subscription per interviewer calendar,
-- renewed before it expires (polling stays the fallback), and the declines read from the events we wrote,
-- each raising one coordinator task with replacements ranked from the same pool.
CREATE TABLE calendar_channels (
    tenant_id      text        NOT NULL,
    interviewer_id text        NOT NULL,
    kind           text        NOT NULL CHECK (kind IN ('google', 'graph')),
    -- Google: our channel id (X-Goog-Channel-ID); Graph: the subscription id Graph gave us
    channel_id     text        NOT NULL,
    -- Google: X-Goog-Resource-ID, needed to stop the channel; Graph: the subscribed resource
    resource_id    text        NOT NULL DEFAULT '',
    -- the per-channel secret (X-Goog-Channel-Token / clientState), sealed with the credential key ring
    secret         text        NOT NULL,
    expires_at     timestamptz NOT NULL,
    status         text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'failed')),
    reason         text        NOT NULL DEFAULT '',
    notified_at    timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, interviewer_id)
);
-- a notification names only the channel: it is looked up across tenants (a system transaction)
CREATE UNIQUE INDEX calendar_channels_channel ON calendar_channels (kind, channel_id);
CREATE INDEX calendar_channels_expiry ON calendar_channels (expires_at);

CREATE TABLE interviewer_declines (
    tenant_id      text        NOT NULL,
    booking_id     uuid        NOT NULL,
    interviewer_id text        NOT NULL,
    -- ranked replacements (interviewer ids, best first) from the same pool, free at the booking's time
    replacements   text[]      NOT NULL DEFAULT '{}',
    status         text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    seen_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, booking_id, interviewer_id)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['calendar_channels', 'interviewer_declines']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
            USING (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')
            WITH CHECK (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')$p$, t);
    END LOOP;
END $$;
