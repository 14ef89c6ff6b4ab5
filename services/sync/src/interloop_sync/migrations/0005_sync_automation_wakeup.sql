-- Wake the automation worker as soon as an action that is already due commits (a scheduling link, an
-- immediate rule), instead of at its next poll: the candidate's email leaves within milliseconds.
-- Identical notifications of one transaction are delivered once. due_at comes from the service's clock, which
-- can be a little ahead of the database's (and now() is the transaction's start): a second of slack.
CREATE OR REPLACE FUNCTION automation_due_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.due_at <= clock_timestamp() + interval '1 second' THEN
        PERFORM pg_notify('automation_due', '');
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER automation_due_notify AFTER INSERT ON automation_actions
    FOR EACH ROW EXECUTE FUNCTION automation_due_notify();
