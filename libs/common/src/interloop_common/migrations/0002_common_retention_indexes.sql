-- The retention sweep (interloop_common.retention) finds old rows by time. BRIN indexes: rows arrive
-- roughly in time order, so a few pages of summary answer "older than" without slowing the hot inserts.
CREATE INDEX IF NOT EXISTS outbox_published_brin ON outbox USING brin (published_at);
CREATE INDEX IF NOT EXISTS inbox_processed_brin ON inbox USING brin (processed_at);
