-- Buffers are part of what an interviewer commits: each commitment records the range it blocks (the
-- interview plus that interviewer's buffers) and the exclusion constraint covers that range. Rows written
-- before (or by an older replica during a rollout) have no `blocked`: their bare interview is used.
ALTER TABLE interviewer_commitments ADD COLUMN IF NOT EXISTS blocked tstzrange;
ALTER TABLE interviewer_commitments DROP CONSTRAINT IF EXISTS no_double_booking;
ALTER TABLE interviewer_commitments ADD CONSTRAINT no_double_booking EXCLUDE USING gist (
    tenant_id WITH =, interviewer_id WITH =, (coalesce(blocked, during)) WITH &&
) WHERE (active);

-- A booking keeps its buffers (a reschedule keeps them too), the override that let it break a scheduling
-- rule (who, why, which rules: the audit of a coordinator's exception), and the loop it was booked with.
ALTER TABLE bookings
    ADD COLUMN IF NOT EXISTS buffer_before   interval NOT NULL DEFAULT '0',
    ADD COLUMN IF NOT EXISTS buffer_after    interval NOT NULL DEFAULT '0',
    ADD COLUMN IF NOT EXISTS override_reason text     NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS override_by     text     NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS override_rules  text[]   NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS loop_id         uuid,
    ADD COLUMN IF NOT EXISTS loop_session_id text     NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS bookings_loop ON bookings (tenant_id, loop_id) WHERE loop_id IS NOT NULL;
