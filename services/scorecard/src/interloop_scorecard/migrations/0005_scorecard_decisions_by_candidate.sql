-- A candidate's decisions newest first (ListDecisions, the partner API's read), keyset-paginated on (decided_at, id).
CREATE INDEX IF NOT EXISTS decisions_by_candidate ON decisions (tenant_id, candidate_id, decided_at DESC, id DESC);
