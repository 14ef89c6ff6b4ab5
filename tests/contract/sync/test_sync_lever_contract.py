"""LeverClient against the fake Lever API over real HTTP."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from interloop_common.vendor_http import AuthFailed, RateLimited, Transient, ValidationFailed
from interloop_fakes.ats import FakeLever
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


async def test_oauth_access_token_is_refreshed_once_on_401(lever: FakeLever, http: httpx.AsyncClient) -> None:
    lever.seed_opportunities(2, START)
    lever.expire_access_tokens()
    config = LeverConfig(
        base_url=f"{lever.base_url}/v1",
        oauth_token="an-hour-old",  # noqa: S106 - fake credential
        refresh_token=lever.refresh_token,
        client_id=lever.client_id,
        client_secret=lever.client_secret,
        token_url=f"{lever.base_url}/oauth/token",  # noqa: S106 - a URL
    )
    lv = LeverClient(http, config)
    assert len((await lv.list_opportunities()).items) == len(lever.opportunities)  # 401, refresh, retry
    assert lever.refreshes == 1 and lever.oauth_token == "lever-access-1"  # noqa: S105
    assert (await lv.list_opportunities()).items  # the new token is kept: no second refresh
    assert lever.refreshes == 1
    # The refresh token rotated: the first one is spent, and a client still holding it fails loudly.
    lever.expire_access_tokens()
    with pytest.raises(AuthFailed) as spent:
        await LeverClient(http, config).list_opportunities()
    assert spent.value.status == 403 and spent.value.body["error"] == "invalid_grant"
    # API-key clients never try to refresh.
    with pytest.raises(AuthFailed):
        await client(lever, http, key="nope").list_opportunities()
    assert lever.refreshes == 1
