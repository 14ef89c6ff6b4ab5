-- Claim, commit, call, record: the automation worker leases an action (claimed_until) in a short transaction
-- and calls the vendor (SMTP, a webhook, the ATS, the HRIS) with no database connection held; the outcome is
-- recorded in a new transaction. A worker that died mid-call leaves a lease that expires, and the action is
-- claimed again. The HRIS hand-off and the ATS write-back are actions too (kinds hris_hire, ats_writeback).
ALTER TABLE automation_actions ADD COLUMN claimed_until timestamptz;

-- Reconciliation runs in budgets (pages and seconds a round): the pages the run in progress has read, so one
-- whose vendor never stops answering with a next cursor is cut off, recorded and alerted instead of paging on.
ALTER TABLE sync_cursors ADD COLUMN run_pages int NOT NULL DEFAULT 0;
