"""The gateway answers one way: walks the route table so a new route cannot skip the house rules.

Every state-changing tenant route takes an Idempotency-Key (one decorator), and every operation's success
response is a named schema in the OpenAPI document (a response struct, not an untyped dict)."""

from __future__ import annotations

from interloop_gateway.idempotency import is_idempotent
from litestar import Litestar

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Routes outside the tenant API's Idempotency-Key (which belongs to an API key), each with its reason.
NOT_IDEMPOTENT = {
    # signed ATS deliveries: deduplicated by the vendor's delivery id in sync, no API key
    ("POST", "/webhooks/{provider:str}/{connection_id:str}"): "webhook",
    # calendar pushes: verified by the channel's secret; a repeat only refreshes the same calendar again
    ("POST", "/webhooks/calendars/google"): "webhook",
    ("POST", "/webhooks/calendars/graph"): "webhook",
    # the candidate's page: a link token, not an API key; each action is idempotent by the link's state
    ("POST", "/v1/scheduling-links/{token:str}/holds"): "candidate",
    ("DELETE", "/v1/scheduling-links/{token:str}/holds/{hold_id:str}"): "candidate",
    ("POST", "/v1/scheduling-links/{token:str}/confirm"): "candidate",
    ("POST", "/v1/scheduling-links/{token:str}/reschedule"): "candidate",
    ("POST", "/v1/scheduling-links/{token:str}/cancel"): "candidate",
    # a stored answer would copy demographics out of reach of the candidate's erasure; PUT repeats harmlessly
    ("PUT", "/v1/compliance/candidates/{candidate_id:str}/demographics"): "erasure",
}


def test_every_state_changing_tenant_route_takes_an_idempotency_key(routes: list) -> None:
    routes = [(m, p, h) for m, p, h in routes if m in UNSAFE]
    assert len(routes) > 20  # the walk sees the whole API, not an empty table
    missing = [
        (m, p)
        for m, p, h in routes
        if (m, p) not in NOT_IDEMPOTENT and not is_idempotent(h)  # type: ignore[arg-type]
    ]
    assert missing == []
    # the exceptions are real routes, and stay exceptions (a stale entry would hide a new one)
    undecorated = {(m, p) for m, p, h in routes if not is_idempotent(h)}  # type: ignore[arg-type]
    assert set(NOT_IDEMPOTENT) == undecorated


def test_every_success_response_is_a_named_schema(app: Litestar) -> None:
    doc = app.openapi_schema.to_schema()
    untyped = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            success = {c: r for c, r in op["responses"].items() if c.startswith("2")}
            assert success, (method, path)
            for code, resp in success.items():
                if code == "204":
                    assert "content" not in resp, (method, path)
                    continue
                schema = resp.get("content", {}).get("application/json", {}).get("schema", {})
                if "$ref" not in schema:
                    untyped.append((method, path, code, schema))
    assert untyped == []
    components = doc["components"]["schemas"]
    assert components["InterviewOut"]["properties"]  # the structs carry their fields into the document


def test_the_old_interviewer_route_is_deprecated_in_favour_of_the_profile_route(app: Litestar) -> None:
    paths = app.openapi_schema.to_schema()["paths"]
    assert paths["/v1/interviewers"]["post"].get("deprecated") is True
    assert not paths["/v1/scheduling/interviewers/{interviewer_id}"]["put"].get("deprecated", False)
