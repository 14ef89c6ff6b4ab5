-- The retention sweep deletes webhook delivery ids and quarantined bodies by age (store/mirror.py):
-- an index on the moment each one is swept by, so a batch never scans the whole table.
CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at);
CREATE INDEX quarantine_received ON quarantine (received_at);
