"""What a failed vendor call may say (stored, alerted, e-mailed, dead-lettered): a fixed code and the HTTP
status, never the answer's text; and a ``next`` link is followed on the base URL's origin only."""

from __future__ import annotations

import pytest
from interloop_common import vendor_http
from interloop_sync.vendors._http import reason, same_origin

SECRET = "AKIA-METADATA-SECRET-do-not-echo"


@pytest.mark.parametrize(
    ("exc", "said"),
    [
        (vendor_http.Refused("lever", "destination_not_allowed"), "lever: destination_not_allowed"),
        (vendor_http.AuthFailed("lever", 401, {"message": SECRET}), "lever: auth_failed (HTTP 401)"),
        (
            vendor_http.ValidationFailed("workday", 422, {"errors": [SECRET]}, [("name", SECRET)]),
            "workday: validation_failed (HTTP 422)",
        ),
        (vendor_http.Permanent("bamboohr", 404, SECRET), "bamboohr: request_refused (HTTP 404)"),
        (vendor_http.Transient("greenhouse", "HTTP 503", 503), "greenhouse: HTTP 503"),
        (vendor_http.Transient("greenhouse", "timeout"), "greenhouse: timeout"),
        (vendor_http.RateLimited("lever", 2.5), "lever: rate_limited (retry after 2.5s)"),
        (ValueError(f"could not convert string to float: {SECRET!r}"), "ValueError"),
    ],
)
def test_a_failure_says_a_fixed_code_and_the_status(exc: BaseException, said: str) -> None:
    assert reason(exc) == said and SECRET not in said


def test_a_next_link_is_followed_on_the_same_origin_only() -> None:
    base = "https://harvest.greenhouse.io"
    assert same_origin("greenhouse", base, "/v1/applications?page=2") == f"{base}/v1/applications?page=2"
    assert same_origin("greenhouse", base, f"{base}:443/v1/x") == f"{base}/v1/x"  # the default port
    for elsewhere in (
        "https://harvest.greenhouse.io.attacker.test/v1/applications?page=2",
        "http://harvest.greenhouse.io/v1/applications?page=2",  # a downgrade is another origin
        "https://harvest.greenhouse.io:8443/v1/applications",
        "https://169.254.169.254/latest/meta-data/",
        "//attacker.test/v1/applications",
    ):
        with pytest.raises(vendor_http.Refused) as refused:
            same_origin("greenhouse", base, elsewhere)
        assert refused.value.reason == "not_same_origin", elsewhere
