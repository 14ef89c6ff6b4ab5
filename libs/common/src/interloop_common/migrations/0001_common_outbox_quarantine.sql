-- An outbox row Kafka refuses for good (too large for the request or the topic, a topic name it rejects)
-- is set aside with the reason instead of being retried forever; the relay moves on and an alert names it.
-- Clearing quarantined_at (after fixing the cause, e.g. raising the topic's max.message.bytes) publishes it.
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS quarantined_at timestamptz;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS quarantine_reason text;
CREATE INDEX IF NOT EXISTS outbox_quarantined ON outbox (quarantined_at) WHERE quarantined_at IS NOT NULL;
