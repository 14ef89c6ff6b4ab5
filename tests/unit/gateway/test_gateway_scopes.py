"""The roles matrix, walked from the route table: every tenant route and partner RPC declares the key
scopes it allows (so a new one cannot skip it), the guard refuses every other key with 403 problem+json
naming the scopes, and the OpenAPI document says which scopes each operation needs."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from interloop.partner.v1 import partner_pb2
from interloop_common.errors import Forbidden, RateLimited, Unauthenticated
from interloop_gateway import problems
from interloop_gateway.app import PUBLIC_PREFIXES
from interloop_gateway.auth import SCOPES, actor_of, allow, allowed_scopes, require_api_key
from interloop_gateway.partner import servicer as partner
from interloop_gateway.partner.access import Access
from interloop_gateway.store.partners import GRANT_SCOPES, Grant, Partner
from interloop_gateway.store.tenants import Principal, hash_key
from litestar import Controller, Litestar, get
from litestar.testing import TestClient

# Routes without an API key (the app's own list: probes, the dashboard page, the candidate's token routes,
# signed webhooks) and the API's own description; everything else must declare its scopes.
PUBLIC = (*PUBLIC_PREFIXES, "/openapi")


@pytest.fixture(scope="module")
def handlers(routes: list[tuple[str, str, Any]]) -> list[tuple[str, str, Any]]:
    return [(m, p, h) for m, p, h in routes if m != "OPTIONS"]


def is_public(path: str) -> bool:
    return path.startswith(PUBLIC)


def test_every_tenant_route_declares_its_scopes_and_is_guarded(handlers: list) -> None:
    routes = handlers
    assert len(routes) > 50  # the walk sees the whole API
    tenant = [(m, p, h) for m, p, h in routes if not is_public(p)]
    assert len(tenant) > 40
    undeclared = [(m, p) for m, p, h in tenant if not allowed_scopes(h)]
    assert undeclared == []
    unguarded = [(m, p) for m, p, h in tenant if require_api_key not in h.resolve_guards()]
    assert unguarded == []
    # public routes stay public: no key asked, no scopes declared
    public = [(m, p, h) for m, p, h in routes if is_public(p)]
    assert {p for _, p, _ in public} >= {"/livez", "/readyz", "/dashboard"}
    assert [(m, p) for m, p, h in public if allowed_scopes(h) or h.resolve_guards()] == []
    # every prefix names a real route (a stale entry would hide a new one)
    assert all(any(p.startswith(x) for _, p, _ in public) for x in PUBLIC)


@pytest.fixture(scope="module")
def matrix(handlers: list) -> dict[tuple[str, str], frozenset[str]]:
    return {(m, p): allowed_scopes(h) for m, p, h in handlers if not is_public(p)}


def test_the_matrix(matrix: dict) -> None:
    for (method, path), scopes in matrix.items():
        assert scopes <= SCOPES - {"partner"}, (method, path)  # partner keys: the gRPC API only
        compliance_data = path.startswith("/v1/compliance/")
        statistics = path.startswith("/v1/scorecard-statistics")
        # candidates' rights: erasure for admin and compliance; access requests (they hold demographics)
        # for compliance alone; never recruiters or interviewers
        privacy = path.startswith("/v1/privacy/")
        exports = path.startswith("/v1/privacy/exports")
        if privacy:
            assert scopes <= {"admin", "compliance"}, (method, path)
        # admin passes everywhere, except the demographic data kept for compliance alone
        assert ("admin" in scopes) != (compliance_data or exports), (method, path)
        # compliance reads compliance data and statistics, and handles privacy requests; nothing else
        reads_statistics = statistics and method == "GET"
        assert ("compliance" in scopes) == (compliance_data or reads_statistics or privacy), (method, path)
        # interviewers never see statistics
        if statistics:
            assert "interviewer" not in scopes, (method, path)
    admin_only = {
        ("POST", "/v1/connections"),
        ("POST", "/v1/connections/{connection_id:str}/reconcile"),
        ("POST", "/v1/automations"),
        ("GET", "/v1/automations"),
        ("GET", "/v1/dead-letters"),
        ("POST", "/v1/dead-letters/replay"),
        ("POST", "/v1/scorecard-templates"),
        ("POST", "/v1/scorecard-templates/{template_id:str}/versions"),
        ("PUT", "/v1/scheduling/job-panels/{job_id:str}"),
        ("PUT", "/v1/scheduling/interviewers/{interviewer_id:str}"),
        ("POST", "/v1/interviewers"),
        ("POST", "/v1/scorecard-statistics/rebuild"),
        ("GET", "/v1/partners"),
        ("GET", "/v1/partner-grants"),
        ("PUT", "/v1/partner-grants/{partner_id:str}"),
        ("DELETE", "/v1/partner-grants/{partner_id:str}"),
        ("GET", "/v1/api-keys"),
        ("POST", "/v1/api-keys"),
        ("POST", "/v1/api-keys/{key_id:str}/rotate"),
        ("DELETE", "/v1/api-keys/{key_id:str}"),
    }
    assert {k for k, v in matrix.items() if v == {"admin"}} == admin_only
    recruiter = {k for k, v in matrix.items() if "recruiter" in v}
    assert {
        ("POST", "/v1/scheduling/availability"),
        ("POST", "/v1/scheduling/loops"),
        ("POST", "/v1/scheduling/loops/bookings"),
        ("POST", "/v1/interviews"),
        ("POST", "/v1/scheduling/links"),
        ("POST", "/v1/scheduling/bookings/{booking_id:str}/reschedule"),
        ("POST", "/v1/scheduling/bookings/{booking_id:str}/cancel"),
        ("POST", "/v1/decisions"),
        ("POST", "/v1/outcomes"),
        ("GET", "/v1/communications"),
        ("GET", "/v1/funnel"),
        ("GET", "/v1/scorecard-statistics/reliability"),
    } <= recruiter
    interviewer = {k for k, v in matrix.items() if "interviewer" in v}
    assert interviewer == {
        ("POST", "/v1/scorecards"),
        ("POST", "/v1/scorecards/{scorecard_id:str}/submit"),
        ("POST", "/v1/scorecards/{scorecard_id:str}/amendments"),
        ("GET", "/v1/scorecards"),
        ("GET", "/v1/scorecards/{scorecard_id:str}"),
        ("GET", "/v1/expected-scorecards"),
        ("GET", "/v1/interviews"),
        ("GET", "/v1/interviews/{interview_id:str}/expected-scorecards"),
        ("GET", "/v1/scorecard-templates"),
        ("GET", "/v1/scorecard-templates/{template_id:str}"),
    }


def test_the_openapi_document_names_each_operations_scopes(app: Litestar, matrix: dict) -> None:
    doc = app.openapi_schema.to_schema()
    seen = 0
    for (method, path), scopes in matrix.items():
        if path.endswith(".html"):  # a printable page of a documented JSON route (same scopes)
            json_route = path.rsplit("/", 1)[0]
            assert json_route.replace(":str", "") in doc["paths"], path
            assert scopes == matrix[(method, json_route)], path
            seen += 1
            continue
        op = doc["paths"][path.replace(":str", "")][method.lower()]
        assert (
            f"one of the scopes: {', '.join(sorted(scopes, key=list(SCOPES_ORDER).index))}."
            in (op["description"])
        ), (method, path, op.get("description"))
        seen += 1
    assert seen == len(matrix)
    decision = doc["paths"]["/v1/decisions"]["post"]["description"]
    assert "`decided_by` is the caller" in decision and "ignored" in decision
    assert "refused with 403" in doc["paths"]["/v1/scorecards"]["post"]["description"]


SCOPES_ORDER = ("admin", "recruiter", "interviewer", "compliance", "partner")


def test_allow_refuses_unknown_or_no_scopes() -> None:
    with pytest.raises(ValueError, match="scopes"):
        allow("root")
    with pytest.raises(ValueError, match="scopes"):
        allow()


class _Fixture(Controller):
    path = "/t"
    guards = [require_api_key]

    @allow("admin", "recruiter")
    @get("/open", summary="a route for admins and recruiters")
    async def open(self) -> dict[str, str]:
        return {"ok": "yes"}

    @get("/forgot", summary="a route that forgot @allow")
    async def forgot(self) -> dict[str, str]:
        return {"ok": "yes"}


KEYS = {
    "k-admin": Principal("t1", ("admin",), "k-admin", key_id="a" * 64),
    "k-recruiter": Principal("t1", ("recruiter",), "k-recr", key_id="b" * 64),
    "k-interviewer": Principal("t1", ("interviewer",), "k-intv", interviewer_id="ivy", key_id="c" * 64),
    "k-partner": Principal("t1", ("partner",), "k-part", key_id="d" * 64),
}


@pytest.fixture
def client() -> Any:
    test_app = Litestar([_Fixture], plugins=[problems.plugin()])
    test_app.state.verified_keys = {hash_key(k): p for k, p in KEYS.items()}
    with TestClient(test_app) as c:
        yield c


@pytest.mark.parametrize(
    ("key", "status"), [("k-admin", 200), ("k-recruiter", 200), ("k-interviewer", 403), ("k-partner", 403)]
)
def test_the_guard_checks_the_declared_scopes(client: Any, key: str, status: int) -> None:
    r = client.get("/t/open", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == status, r.text
    if status == 403:
        assert r.headers["content-type"].startswith("application/problem+json")
        if key == "k-interviewer":
            assert r.json()["required_scopes"] == ["admin", "recruiter"]
            assert "admin, recruiter" in r.json()["detail"]


def test_a_route_without_declared_scopes_is_refused_and_no_key_is_401(client: Any) -> None:
    assert client.get("/t/forgot", headers={"Authorization": "Bearer k-admin"}).status_code == 403
    assert client.get("/t/open").status_code == 401


def test_the_actor_of_a_write_is_the_principal() -> None:
    assert actor_of(KEYS["k-interviewer"]) == "ivy"
    digest = hashlib.sha256(b"k-admin").hexdigest()
    assert actor_of(Principal("t1", ("admin",), "k-admin", key_id=digest)) == f"api-key:{digest[:16]}"


# -- the partner gRPC API


def test_every_partner_rpc_declares_its_grant_scopes() -> None:
    rpcs = [m.name for m in partner_pb2.DESCRIPTOR.services_by_name["PartnerService"].methods]
    assert len(rpcs) >= 12
    declared = {r: allowed_scopes_rpc(r) for r in rpcs}
    assert all(declared[r] and declared[r] <= set(GRANT_SCOPES) for r in rpcs), declared
    push = {"UpsertCandidate", "UpsertApplication", "MoveStage", "RejectApplication", "HireApplication"}
    push |= {"DeleteCandidate", "PushChanges"}
    assert {r for r in rpcs if declared[r] == {"push"}} == push
    assert {r for r in rpcs if declared[r] == {"read"}} >= {
        "ListCandidateInterviews",
        "ListCandidateScorecards",
        "ListCandidateDecisions",
    }
    assert declared["RequestScheduling"] == {"schedule"} and declared["SubscribeEvents"] == {"subscribe"}
    assert declared["GetPartnerInfo"] == set(GRANT_SCOPES)


def allowed_scopes_rpc(name: str) -> frozenset[str] | None:
    return partner.allowed_scopes(getattr(partner.PartnerServicer, name))


class _Context:
    def __init__(self, key: str | None, tenant: str | None = None) -> None:
        self._md = [("authorization", f"Bearer {key}")] if key else []
        if tenant is not None:
            self._md.append(("x-tenant-id", tenant))

    def invocation_metadata(self) -> list[tuple[str, str]]:
        return self._md

    def peer(self) -> str:
        return "ipv4:127.0.0.1:50000"


PARTNER_KEYS = {
    "p-partner": Principal("t1", ("partner",), "p-part"),
    "p-admin": Principal("t1", ("admin",), "p-admi"),
    "p-compliance": Principal("t1", ("compliance",), "p-comp"),
    "p-interviewer": Principal("t1", ("interviewer",), "p-intv", interviewer_id="ivy"),
    "p-recruiter": Principal("t1", ("recruiter",), "p-recr"),
}
ACME_KEY = "ilp_acme-test-key"


def _servicer(calls_per_minute: int = 600) -> tuple[Any, Access]:
    """A servicer over caches filled as a database would: no database is reached (`pool` is a stand-in
    that fails if used)."""
    state = SimpleNamespace(
        pool=object(), backends=object(), verified_keys={hash_key(k): p for k, p in PARTNER_KEYS.items()}
    )
    state.partner_access = access = Access(state, 30)
    access._partners[hash_key(ACME_KEY)] = Partner("acme", "Acme ATS", calls_per_minute)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    access.grants[("t1", "acme")] = Grant("t1", "acme", "Acme ATS", ("read",), "admin", when)
    access.grants[("t2", "acme")] = None  # tenant t2 never granted acme
    return partner.PartnerServicer(SimpleNamespace(state=state)), access


@pytest.mark.parametrize("key", sorted(PARTNER_KEYS))
async def test_a_tenant_key_calls_the_partner_api_only_with_scope_partner_or_admin(key: str) -> None:
    servicer, _ = _servicer()
    call = servicer.GetPartnerInfo(partner_pb2.GetPartnerInfoRequest(), _Context(key))  # type: ignore[arg-type]
    if key in ("p-partner", "p-admin"):
        info = await call
        # the tenant acting for itself: every grant scope, no partner id (x-partner-id is not believed)
        assert info.tenant_id == "t1" and list(info.scopes) == list(GRANT_SCOPES) and info.partner_id == ""
    else:
        with pytest.raises(Forbidden, match="partner"):
            await call
    # the check runs on every call, not once per channel: another RPC refuses the same key
    other = servicer.ListCandidateInterviews(
        partner_pb2.ListCandidateInterviewsRequest(candidate_id=""),
        _Context(key),  # type: ignore[arg-type]
    )
    if key in ("p-partner", "p-admin"):
        with pytest.raises(Exception, match="candidate_id"):  # past the scope check: input validation
            await other
    else:
        with pytest.raises(Forbidden):
            await other


async def test_a_partner_key_acts_only_within_its_grant() -> None:
    servicer, _ = _servicer()
    info = await servicer.GetPartnerInfo(partner_pb2.GetPartnerInfoRequest(), _Context(ACME_KEY, "t1"))  # type: ignore[arg-type]
    assert (info.partner_id, info.tenant_id, list(info.scopes)) == ("acme", "t1", ["read"])
    # within the grant's scopes: past the check, to input validation
    with pytest.raises(Exception, match="candidate_id"):
        await servicer.ListCandidateScorecards(
            partner_pb2.ListCandidateScorecardsRequest(),
            _Context(ACME_KEY, "t1"),  # type: ignore[arg-type]
        )
    # outside them: a read grant does not push or schedule
    with pytest.raises(Forbidden, match="push"):
        await servicer.MoveStage(partner_pb2.MoveStageRequest(request_id="r1"), _Context(ACME_KEY, "t1"))  # type: ignore[arg-type]
    with pytest.raises(Forbidden, match="schedule"):
        await servicer.RequestScheduling(
            partner_pb2.RequestSchedulingRequest(candidate_id="c"),
            _Context(ACME_KEY, "t1"),  # type: ignore[arg-type]
        )
    # another tenant (no grant), or none named
    for tenant in ("t2", None):
        with pytest.raises(Forbidden, match="grant|x-tenant-id"):
            await servicer.GetPartnerInfo(partner_pb2.GetPartnerInfoRequest(), _Context(ACME_KEY, tenant))  # type: ignore[arg-type]
    # an unknown partner key
    servicer_access = servicer.access
    servicer_access._partners[hash_key("ilp_unknown")] = None
    with pytest.raises(Unauthenticated):
        await servicer.GetPartnerInfo(partner_pb2.GetPartnerInfoRequest(), _Context("ilp_unknown", "t1"))  # type: ignore[arg-type]


async def test_a_partner_over_its_rate_limit_is_told_when_to_retry() -> None:
    servicer, _ = _servicer(calls_per_minute=3)
    for _ in range(3):
        await servicer.GetPartnerInfo(partner_pb2.GetPartnerInfoRequest(), _Context(ACME_KEY, "t1"))  # type: ignore[arg-type]
    with pytest.raises(RateLimited, match="3 calls per minute") as over:
        await servicer.GetPartnerInfo(partner_pb2.GetPartnerInfoRequest(), _Context(ACME_KEY, "t1"))  # type: ignore[arg-type]
    assert 0 < over.value.retry_after <= 60
    # another caller has its own allowance
    await servicer.GetPartnerInfo(partner_pb2.GetPartnerInfoRequest(), _Context("p-partner"))  # type: ignore[arg-type]


async def test_a_partner_call_without_a_key_is_unauthenticated() -> None:
    servicer, _ = _servicer()
    with pytest.raises(Unauthenticated):
        await servicer.GetPartnerInfo(partner_pb2.GetPartnerInfoRequest(), _Context(None))  # type: ignore[arg-type]


def test_a_key_over_its_rate_limit_gets_429_with_retry_after_and_others_do_not() -> None:
    from interloop_gateway.auth import RestLimit

    test_app = Litestar([_Fixture], plugins=[problems.plugin()])
    test_app.state.verified_keys = {hash_key(k): p for k, p in KEYS.items()}
    test_app.state.rest_limit = RestLimit.of(3)
    with TestClient(test_app) as c:
        admin = {"Authorization": "Bearer k-admin"}
        assert [c.get("/t/open", headers=admin).status_code for _ in range(3)] == [200, 200, 200]
        over = c.get("/t/open", headers=admin)
        assert over.status_code == 429 and over.headers["content-type"].startswith("application/problem+json")
        assert 1 <= int(over.headers["retry-after"]) <= 60
        assert "3 requests per minute" in over.json()["detail"]
        # the limit is the key's own: another key of the same tenant is unaffected
        assert c.get("/t/open", headers={"Authorization": "Bearer k-recruiter"}).status_code == 200
    assert RestLimit.of(0) is None  # 0: no limit
    assert over.headers["ratelimit-limit"] == "3" and over.headers["ratelimit-remaining"] == "0"


def test_a_tenants_keys_share_a_tenant_limit() -> None:
    from interloop_gateway.auth import RestLimit

    test_app = Litestar([_Fixture], plugins=[problems.plugin()])
    test_app.state.verified_keys = {hash_key(k): p for k, p in KEYS.items()}
    test_app.state.rest_limit = RestLimit.of(3, tenant_per_minute=4)
    with TestClient(test_app) as c:
        statuses = [
            c.get("/t/open", headers={"Authorization": f"Bearer {k}"}).status_code
            for k in ("k-admin", "k-admin", "k-admin", "k-recruiter", "k-recruiter")
        ]
        assert statuses == [
            200,
            200,
            200,
            200,
            429,
        ]  # the recruiter's own budget is not spent: the tenant's is
        last = c.get("/t/open", headers={"Authorization": "Bearer k-recruiter"})
        assert "this tenant's keys together are over the limit of 4" in last.json()["detail"]


async def test_a_refused_key_is_refused_again_without_a_query() -> None:
    from cachetools import TTLCache
    from interloop_gateway.auth import verify_key

    queries: list[str] = []

    class Conn:
        async def fetchrow(self, sql: str, *args: Any) -> None:
            queries.append(sql)
            return None

    class Pool:
        def acquire(self) -> Any:
            class Ctx:
                async def __aenter__(self) -> Conn:
                    return Conn()

                async def __aexit__(self, *exc: object) -> None:
                    return None

            return Ctx()

    state = SimpleNamespace(pool=Pool(), verified_keys={}, refused_keys=TTLCache(maxsize=10, ttl=60))
    assert [await verify_key(state, "il_guess") for _ in range(5)] == [None] * 5
    assert len(queries) == 1
    assert await verify_key(state, "il_other_guess") is None and len(queries) == 2
