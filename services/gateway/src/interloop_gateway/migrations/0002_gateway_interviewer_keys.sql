-- An API key may belong to one interviewer: the blind rule then uses that identity, not a header.
ALTER TABLE api_keys ADD COLUMN interviewer_id text;
