-- Connection configuration, the mirror of ATS records, HRIS hand-off, write-back, automations, funnel.
ALTER TABLE connections ADD COLUMN name text NOT NULL DEFAULT '';
ALTER TABLE connections ADD COLUMN field_mapping jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE connections ADD COLUMN stage_policy jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE connections ADD COLUMN hris_connection_id uuid;
ALTER TABLE connections ADD COLUMN settings jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE connections ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

ALTER TABLE quarantine ADD COLUMN body_sha256 text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX quarantine_once ON quarantine (tenant_id, connection_id, body_sha256);

-- Mirrored candidates; person_id ties records of one person together (remote id, email, phone).
CREATE TABLE candidates (
    tenant_id     text        NOT NULL,
    connection_id uuid        NOT NULL,
    remote_id     text        NOT NULL,
    person_id     uuid        NOT NULL,
    first_name    text,
    last_name     text,
    emails        text[]      NOT NULL DEFAULT '{}',
    phones        text[]      NOT NULL DEFAULT '{}',
    norm_emails   text[]      NOT NULL DEFAULT '{}',
    norm_phones   text[]      NOT NULL DEFAULT '{}',
    data          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    merged_into   text,
    anonymised    boolean     NOT NULL DEFAULT false,
    deleted       boolean     NOT NULL DEFAULT false,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, connection_id, remote_id)
);
CREATE INDEX candidates_emails ON candidates USING gin (norm_emails);
CREATE INDEX candidates_phones ON candidates USING gin (norm_phones);

CREATE TABLE jobs (
    tenant_id     text        NOT NULL,
    connection_id uuid        NOT NULL,
    remote_id     text        NOT NULL,
    name          text,
    status        text,
    data          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    deleted       boolean     NOT NULL DEFAULT false,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, connection_id, remote_id)
);

CREATE TABLE applications (
    tenant_id           text        NOT NULL,
    connection_id       uuid        NOT NULL,
    remote_id           text        NOT NULL,
    candidate_remote_id text,
    job_ids             text[]      NOT NULL DEFAULT '{}',
    status              text,
    stage_id            text,
    stage_name          text,
    stage_entered_at    timestamptz,
    source              text,
    applied_at          timestamptz,
    hired_at            timestamptz,
    rejected_at         timestamptz,
    deleted             boolean     NOT NULL DEFAULT false,
    data                jsonb       NOT NULL DEFAULT '{}'::jsonb,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, connection_id, remote_id)
);

-- One row per stage an application entered: time in stage and drop-off for the funnel.
CREATE TABLE stage_history (
    tenant_id      text        NOT NULL,
    connection_id  uuid        NOT NULL,
    application_id text        NOT NULL,
    seq            bigserial,
    stage_id       text        NOT NULL,
    stage_name     text,
    entered_at     timestamptz NOT NULL,
    left_at        timestamptz,
    outcome        text,       -- advanced | rejected | hired
    PRIMARY KEY (tenant_id, connection_id, application_id, seq)
);

CREATE TABLE offers (
    tenant_id      text        NOT NULL,
    connection_id  uuid        NOT NULL,
    remote_id      text        NOT NULL,
    application_id text,
    status         text,
    resolved_at    timestamptz,
    data           jsonb       NOT NULL DEFAULT '{}'::jsonb,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, connection_id, remote_id)
);

-- Event types we do not model: recorded and acknowledged, never dropped.
CREATE TABLE unrecognised_events (
    tenant_id     text        NOT NULL,
    connection_id uuid        NOT NULL,
    delivery_id   text        NOT NULL,
    action        text        NOT NULL,
    raw           jsonb       NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, connection_id, delivery_id, action)
);

-- Every sync operation and its outcome: the error-rate and duplicate-rate read-model.
CREATE TABLE sync_operations (
    tenant_id     text        NOT NULL,
    id            bigserial,
    connection_id uuid,
    direction     text        NOT NULL,  -- inbound | outbound | hris | reconcile | automation
    operation     text        NOT NULL,
    outcome       text        NOT NULL,  -- success | duplicate | error | skipped | shadowed
    detail        text        NOT NULL DEFAULT '',
    at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

-- Resumable reconciliation cursors, one per connection and resource.
CREATE TABLE sync_cursors (
    tenant_id     text        NOT NULL,
    connection_id uuid        NOT NULL,
    resource      text        NOT NULL,
    page_cursor   text,
    updated_after timestamptz,
    run_started   timestamptz,
    last_run_at   timestamptz,
    last_error    text,
    PRIMARY KEY (tenant_id, connection_id, resource)
);

-- ATS -> HRIS hand-off: one row per hire, claimed before the HRIS call so a retry never writes twice.
CREATE TABLE hris_syncs (
    tenant_id          text        NOT NULL,
    idempotency_key    text        NOT NULL,
    hris_connection_id uuid        NOT NULL,
    ats_connection_id  uuid        NOT NULL,
    application_id     text        NOT NULL,
    status             text        NOT NULL,  -- writing | written | verified | mismatch | conflict | shadowed | failed | ambiguous
    remote_id          text,
    fields             jsonb       NOT NULL DEFAULT '{}'::jsonb,
    baseline           jsonb,
    mismatches         jsonb,
    attempts           int         NOT NULL DEFAULT 0,
    last_error         text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, idempotency_key)
);

-- Fields both sides changed since the last sync: flagged for a human, never overwritten.
CREATE TABLE sync_conflicts (
    tenant_id       text        NOT NULL,
    id              uuid        NOT NULL,
    idempotency_key text        NOT NULL,
    field           text        NOT NULL,
    baseline        jsonb,
    ats_value       jsonb,
    hris_value      jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz,
    PRIMARY KEY (tenant_id, id)
);

-- Outbound write-back to the ATS (notes, custom fields, feedback); the key makes a retry harmless.
CREATE TABLE writebacks (
    tenant_id       text        NOT NULL,
    idempotency_key text        NOT NULL,
    connection_id   uuid        NOT NULL,
    kind            text        NOT NULL,  -- note | custom_fields | feedback
    target          text        NOT NULL,
    payload         jsonb       NOT NULL,
    status          text        NOT NULL,  -- writing | written | shadowed | skipped
    result          jsonb,
    attempts        int         NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    written_at      timestamptz,
    PRIMARY KEY (tenant_id, idempotency_key)
);

CREATE TABLE automation_rules (
    tenant_id  text        NOT NULL,
    id         text        NOT NULL,
    source     jsonb       NOT NULL,  -- {"dsl": "..."} or {"json": {...}}
    on_event   text        NOT NULL,
    action     text        NOT NULL,
    enabled    boolean     NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE email_templates (
    tenant_id  text        NOT NULL,
    name       text        NOT NULL,
    subject    text        NOT NULL,
    body       text        NOT NULL,
    html       boolean     NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name)
);

-- Due automation actions; one rule, one outcome per event (the idempotency key).
CREATE TABLE automation_actions (
    tenant_id       text        NOT NULL,
    idempotency_key text        NOT NULL,
    rule_id         text        NOT NULL,
    connection_id   uuid,
    kind            text        NOT NULL,
    args            jsonb       NOT NULL DEFAULT '{}'::jsonb,
    context         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    event_at        timestamptz NOT NULL DEFAULT now(),
    due_at          timestamptz NOT NULL,
    status          text        NOT NULL DEFAULT 'pending',  -- pending | done | failed | cancelled
    attempts        int         NOT NULL DEFAULT 0,
    last_error      text,
    done_at         timestamptz,
    PRIMARY KEY (tenant_id, idempotency_key)
);
CREATE INDEX automation_actions_due ON automation_actions (due_at) WHERE status = 'pending';

-- Every message sent to a candidate (or on their behalf).
CREATE TABLE communications (
    tenant_id       text        NOT NULL,
    id              uuid        NOT NULL,
    idempotency_key text        NOT NULL,
    channel         text        NOT NULL,  -- email | webhook | event
    recipient       text        NOT NULL,
    subject         text        NOT NULL DEFAULT '',
    body            text        NOT NULL DEFAULT '',
    status          text        NOT NULL,  -- sent | failed
    event_at        timestamptz NOT NULL,
    sent_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX communications_once ON communications (tenant_id, idempotency_key, channel);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['candidates', 'jobs', 'applications', 'stage_history', 'offers', 'unrecognised_events',
                             'sync_operations', 'sync_cursors', 'hris_syncs', 'sync_conflicts', 'writebacks',
                             'automation_rules', 'email_templates', 'automation_actions', 'communications']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
            USING (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')
            WITH CHECK (tenant_id = current_setting('app.tenant_id', true) OR current_setting('app.system', true) = 'on')$p$, t);
    END LOOP;
END $$;
