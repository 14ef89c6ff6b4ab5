"""LeverClient against the fake Lever API over real HTTP."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from interloop_fakes.ats import FakeLever
from interloop_sync.vendors.errors import AuthFailed, RateLimited, Transient, ValidationFailed
from interloop_sync.vendors.lever import LeverClient, LeverConfig

START = datetime(2030, 1, 1, tzinfo=UTC)


def client(fake: FakeLever, http: httpx.AsyncClient, key: str | None = None) -> LeverClient:
    return LeverClient(http, LeverConfig(base_url=f"{fake.base_url}/v1", api_key=key or fake.api_key))


async def test_offset_pagination_with_updated_at_start(lever: FakeLever, http: httpx.AsyncClient) -> None:
    seeded = [o["id"] for o in lever.seed_opportunities(5, START)]
    lv = client(lever, http)
    ids, cursor, pages = [], None, 0
    while True:
        page = await lv.list_opportunities(
            updated_at_start=START + timedelta(minutes=1), cursor=cursor, limit=2
        )
        ids += [o["id"] for o in page.items]
        pages += 1
        if not (cursor := page.next_cursor):
            break
    assert ids == seeded[1:] and pages == 2


async def test_feedback_with_perform_as_is_written_once(lever: FakeLever, http: httpx.AsyncClient) -> None:
    (opp,) = lever.seed_opportunities(1, START + timedelta(days=1))
    lv = client(lever, http)
    kwargs = dict(
        perform_as="u-1",
        base_template_id="tmpl-1",
        field_values=[{"id": "f-score", "value": 4}],
        idempotency_key="scorecard-77",
        marker_field_id="f-notes",
        completed_at=START,
    )
    first = await lv.submit_feedback(opp["id"], **kwargs)
    again = await lv.submit_feedback(opp["id"], **kwargs)
    assert first.created and not again.created
    (write,) = lever.writes_to(f"/v1/opportunities/{opp['id']}/feedback")
    assert "perform_as=u-1" in write.query and write.json()["completedAt"] == int(START.timestamp() * 1000)
    with pytest.raises(ValidationFailed) as err:
        await lv.submit_feedback(opp["id"], **{**kwargs, "perform_as": "nobody", "idempotency_key": "k2"})
    assert err.value.status == 400 and "perform_as" in str(err.value.errors)


async def test_lever_errors(lever: FakeLever, http: httpx.AsyncClient) -> None:
    with pytest.raises(AuthFailed) as auth:
        await client(lever, http, key="nope").list_opportunities()
    assert auth.value.body["code"] == "UnauthorizedError"
    lever.rate_limit_next(1, retry_after=None)
    with pytest.raises(RateLimited) as limited:
        await client(lever, http).list_opportunities()
    assert limited.value.retry_after_s > 0  # no documented Retry-After: a default pause
    lever.fail_next(1, 503)
    with pytest.raises(Transient):
        await client(lever, http).list_opportunities()
    assert (await client(lever, http).list_opportunities(limit=1)).items
