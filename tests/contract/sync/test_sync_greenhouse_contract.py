"""GreenhouseHarvest against the fake Harvest server over real HTTP."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx
import pytest
from interloop_common.vendor_http import AuthFailed, RateLimited, Transient, ValidationFailed
from interloop_fakes.ats import FakeGreenhouse
from interloop_sync.vendors.greenhouse import GreenhouseConfig, GreenhouseHarvest

START = datetime(2030, 1, 1, tzinfo=UTC)


def v1(fake: FakeGreenhouse, http: httpx.AsyncClient, **kw) -> GreenhouseHarvest:
    cfg = GreenhouseConfig(base_url=fake.base_url, api_key=fake.api_key, on_behalf_of="1001", **kw)
    return GreenhouseHarvest(http, cfg)


async def collect(list_page, **kw) -> tuple[list[int], int]:
    ids, cursor, pages = [], None, 0
    while True:
        page = await list_page(cursor=cursor, **kw)
        ids += [c["id"] for c in page.items]
        pages += 1
        if page.next_cursor is None:
            return ids, pages
        cursor = page.next_cursor


async def test_v1_link_pagination_and_updated_after(
    greenhouse: FakeGreenhouse, http: httpx.AsyncClient
) -> None:
    seeded = [c["id"] for c in greenhouse.seed_candidates(5, START)]
    gh = v1(greenhouse, http)
    ids, pages = await collect(gh.list_candidates, updated_after=START, per_page=2)
    assert ids == seeded and pages == 3
    later, _ = await collect(gh.list_candidates, updated_after=START + timedelta(minutes=3), per_page=2)
    assert later == seeded[3:]


async def test_v1_cursor_resumes_in_a_new_adapter(
    greenhouse: FakeGreenhouse, http: httpx.AsyncClient
) -> None:
    start = START + timedelta(days=1)
    seeded = [c["id"] for c in greenhouse.seed_candidates(3, start)]
    first = await v1(greenhouse, http).list_candidates(updated_after=start, per_page=2)
    persisted = first.next_cursor
    assert persisted and "page=2" in persisted
    resumed = await v1(greenhouse, http).list_candidates(cursor=persisted)
    assert [c["id"] for c in first.items + resumed.items] == seeded and resumed.next_cursor is None


async def test_v3_cursor_mode_sends_only_the_cursor(
    greenhouse: FakeGreenhouse, http: httpx.AsyncClient
) -> None:
    start = START + timedelta(days=2)
    seeded = [c["id"] for c in greenhouse.seed_candidates(5, start)]
    cfg = GreenhouseConfig(
        base_url=greenhouse.base_url,
        api_version="v3",
        on_behalf_of="1001",
        client_id=greenhouse.client_id,
        client_secret=greenhouse.client_secret,
        token_url=f"{greenhouse.base_url}/token",
    )
    gh = GreenhouseHarvest(http, cfg)
    ids, pages = await collect(gh.list_candidates, updated_after=start, per_page=2)
    assert ids == seeded and pages == 3
    follow_ups = [
        parse_qs(r.query) for r in greenhouse.requests if r.path == "/v3/candidates" and "cursor" in r.query
    ]
    assert len(follow_ups) == 2 and all(set(q) == {"cursor"} for q in follow_ups)
    tokens = [r for r in greenhouse.requests if r.path == "/token"]
    assert len(tokens) == 1  # cached across pages
    bad = await http.get(
        f"{greenhouse.base_url}/v3/candidates?cursor=abc&per_page=2",
        headers={"Authorization": f"Bearer {next(iter(greenhouse.tokens))}"},
    )
    assert bad.status_code == 400


async def test_429_retry_after_then_success(greenhouse: FakeGreenhouse, http: httpx.AsyncClient) -> None:
    gh = v1(greenhouse, http)
    greenhouse.rate_limit_next(1, retry_after=7)
    with pytest.raises(RateLimited) as err:
        await gh.list_candidates(per_page=1)
    assert err.value.retry_after_s == 7
    assert (await gh.list_candidates(per_page=1)).items


async def test_remaining_zero_is_obeyed_without_a_request(
    greenhouse: FakeGreenhouse, http: httpx.AsyncClient
) -> None:
    gh = v1(greenhouse, http)
    greenhouse.exhaust_rate_limit(reset_in_s=30)
    page = await gh.list_candidates(per_page=1)
    assert page.rate_limit_remaining == 0
    before = len(greenhouse.requests)
    with pytest.raises(RateLimited) as err:
        await gh.list_candidates(per_page=1)
    assert len(greenhouse.requests) == before and 0 < err.value.retry_after_s <= 31


async def test_auth_and_outage_errors(greenhouse: FakeGreenhouse, http: httpx.AsyncClient) -> None:
    bad = GreenhouseHarvest(http, GreenhouseConfig(base_url=greenhouse.base_url, api_key="wrong"))
    with pytest.raises(AuthFailed) as err:
        await bad.list_candidates()
    assert err.value.status == 401 and err.value.body == {"message": "Invalid Basic Auth credentials"}
    greenhouse.fail_next(1, 502)
    with pytest.raises(Transient) as down:
        await v1(greenhouse, http).list_candidates()
    assert down.value.status == 502


async def test_note_is_written_exactly_once(greenhouse: FakeGreenhouse, http: httpx.AsyncClient) -> None:
    (cand,) = greenhouse.seed_candidates(1, START + timedelta(days=3))
    gh = v1(greenhouse, http)
    first = await gh.add_note(
        str(cand["id"]), "Interview loop scheduled for Tue", idempotency_key="loop-1:sched"
    )
    again = await gh.add_note(
        str(cand["id"]), "Interview loop scheduled for Tue", idempotency_key="loop-1:sched"
    )
    assert first.created and not again.created and again.note["id"] == first.note["id"]
    (write,) = greenhouse.writes_to(f"/v1/candidates/{cand['id']}/activity_feed/notes")
    assert write.headers["on-behalf-of"] == "1001" and "[interloop:loop-1:sched]" in write.json()["body"]


async def test_application_custom_fields_patch_and_validation(
    greenhouse: FakeGreenhouse, http: httpx.AsyncClient
) -> None:
    (cand,) = greenhouse.seed_candidates(1, START + timedelta(days=4))
    app_id = str(cand["application_ids"][0])
    gh = v1(greenhouse, http)
    sent = await gh.update_application_custom_fields(app_id, {"interview_status": "scheduled"})
    assert sent == {"interview_status": "scheduled"}
    assert await gh.update_application_custom_fields(app_id, {"interview_status": "scheduled"}) == {}
    assert len(greenhouse.writes_to(f"/v1/applications/{app_id}", "PATCH")) == 1
    with pytest.raises(ValidationFailed) as err:
        await gh.update_application_custom_fields(app_id, {"no_such_field": "x"})
    assert err.value.status == 422 and err.value.errors[0][0] == "custom_fields"
    anonymous = GreenhouseHarvest(
        http, GreenhouseConfig(base_url=greenhouse.base_url, api_key=greenhouse.api_key)
    )
    with pytest.raises(ValidationFailed) as missing:
        await anonymous.update_application_custom_fields(app_id, {"interview_status": "complete"})
    assert missing.value.errors[0][0] == "On-Behalf-Of"


def test_config_repr_hides_secrets() -> None:
    text = repr(GreenhouseConfig(api_key="hv-secret", client_secret="cs-secret"))  # noqa: S106
    assert "secret" not in text
