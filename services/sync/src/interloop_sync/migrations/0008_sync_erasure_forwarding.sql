-- Erasure forwarded to the ATS (GDPR Art. 19): a step per connection that held the candidate, with what
-- became of it. outcome: done | not_supported (the vendor has no API for it, or the connection no API
-- credentials) | failed (after retries); detail says why.
ALTER TABLE erasure_steps
    ADD COLUMN outcome text CHECK (outcome IN ('done', 'not_supported', 'failed')),
    ADD COLUMN detail  text NOT NULL DEFAULT '';
UPDATE erasure_steps SET outcome = 'done' WHERE done_at IS NOT NULL;
