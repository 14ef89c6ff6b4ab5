"""Partner-port TLS settings are checked when they load: a certificate without its key (or a client CA
without a server certificate) is refused at start-up, not discovered by the first partner."""

from __future__ import annotations

import pytest
from interloop_gateway.settings import GatewaySettings
from pydantic import ValidationError


@pytest.mark.parametrize(
    "values",
    [
        {"partner_tls_cert_file": "/tls/cert.pem"},
        {"partner_tls_key_file": "/tls/key.pem"},
        {"partner_tls_client_ca_file": "/tls/ca.pem"},
    ],
)
def test_incomplete_partner_tls_is_refused(values: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="partner_tls"):
        GatewaySettings(**values)


def test_complete_partner_tls_loads() -> None:
    s = GatewaySettings(
        partner_tls_cert_file="/c", partner_tls_key_file="/k", partner_tls_client_ca_file="/ca"
    )
    assert (s.partner_tls_cert_file, s.partner_tls_client_ca_file) == ("/c", "/ca")
