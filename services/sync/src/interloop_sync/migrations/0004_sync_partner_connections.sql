-- Partner connections: an ATS vendor pushing changes over the partner API acts through one connection per
-- tenant and partner (settings.partner_id), made on its first push, holding no credentials.
ALTER TABLE connections DROP CONSTRAINT connections_provider_check;
ALTER TABLE connections ADD CONSTRAINT connections_provider_check
    CHECK (provider IN ('greenhouse', 'lever', 'workday', 'bamboohr', 'partner'));
CREATE UNIQUE INDEX connections_partner ON connections (tenant_id, (settings->>'partner_id'))
    WHERE provider = 'partner';
