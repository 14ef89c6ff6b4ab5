-- Outcomes per job when the HRIS says which job the hire was for (predictive validity is per job);
-- '' = not said, applies to every job of the candidate.
ALTER TABLE outcomes ADD COLUMN job_id text NOT NULL DEFAULT '';
ALTER TABLE outcomes ADD COLUMN application_id text NOT NULL DEFAULT '';
ALTER TABLE outcomes DROP CONSTRAINT outcomes_pkey;
ALTER TABLE outcomes ADD PRIMARY KEY (tenant_id, candidate_id, outcome, job_id);
