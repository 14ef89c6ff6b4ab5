-- A scheduling link the ATS closed (the application was rejected or the candidate withdrew): its page says
-- it is no longer available, whatever its token's expiry; closed_reason says why.
ALTER TABLE scheduling_links ADD COLUMN closed_at timestamptz;
ALTER TABLE scheduling_links ADD COLUMN closed_reason text NOT NULL DEFAULT '';
