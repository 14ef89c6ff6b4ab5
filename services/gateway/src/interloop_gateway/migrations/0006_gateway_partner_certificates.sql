-- A partner may be bound to a client certificate: on a mutual-TLS partner port its calls must then
-- present a certificate with this subject common name (besides its key).
ALTER TABLE partners ADD COLUMN client_cert_subject text;
