"""LeverClient against the fake Lever API over real HTTP."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from interloop_common.vendor_http import (
    AuthFailed,
    Permanent,
    RateLimited,
    Transient,
    ValidationFailed,
    with_retries,
)
from interloop_fakes.ats import FakeLever
from interloop_sync.domain.model import StageChange
from interloop_sync.domain.normalise import InterviewStagePolicy
from interloop_sync.vendors.lever import ADAPTER, LeverClient, LeverConfig, normalise

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


# ---- what a webhook's ids stand for: the opportunity (expanded) and its posting -----------------------

POLICY = InterviewStagePolicy(keywords=("interview",))


async def test_opportunity_and_posting_give_the_job_stage_email_and_source(
    lever: FakeLever, http: httpx.AsyncClient
) -> None:
    posting = lever.add_posting(text="Platform Engineer", req_code="REQ-42")
    onsite = lever.add_stage("On-site interview")
    opp = lever.add_opportunity(
        updated_at=START,
        name="Grace Hopper",
        email="grace@example.com",
        posting_id=posting["id"],
        stage_id=onsite,
        sources=("referral-portal",),
        origin="referred",
    )
    found = await client(lever, http).opportunity(opp["id"], POLICY)
    assert found.application.remote_id == opp["id"]
    assert found.application.job_ids == (posting["id"],)
    assert found.application.source == "referral-portal"
    assert [(j.remote_id, j.name, j.requisition_id) for j in found.jobs] == [
        (posting["id"], "Platform Engineer", "REQ-42")
    ]
    assert found.stage is not None and (found.stage.remote_id, found.stage.name) == (
        onsite,
        "On-site interview",
    )
    assert found.candidate is not None and found.candidate.remote_id == opp["contact"]
    assert (found.candidate.first_name, found.candidate.last_name) == ("Grace", "Hopper")
    assert found.candidate.emails == ("grace@example.com",)
    # What was asked: the opportunity with applications and stage expanded, then the posting.
    asked = [(r.path, r.query) for r in lever.requests[-2:]]
    assert asked[0][0] == f"/v1/opportunities/{opp['id']}"
    assert "expand=applications" in asked[0][1] and "expand=stage" in asked[0][1]
    assert asked[1] == (f"/v1/postings/{posting['id']}", "")


async def test_an_origin_is_the_source_when_no_sources_are_listed(
    lever: FakeLever, http: httpx.AsyncClient
) -> None:
    posting = lever.add_posting()
    opp = lever.add_opportunity(updated_at=START, posting_id=posting["id"], sources=(), origin="applied")
    assert (await client(lever, http).opportunity(opp["id"], POLICY)).application.source == "applied"


async def test_unknown_ids_are_404_and_bad_keys_401(lever: FakeLever, http: httpx.AsyncClient) -> None:
    lv = client(lever, http)
    with pytest.raises(Permanent) as missing:
        await lv.opportunity("00000000-0000-0000-0000-00000000dead", POLICY)
    assert missing.value.status == 404 and not isinstance(missing.value, AuthFailed)
    assert missing.value.body["code"] == "ResourceNotFound"
    with pytest.raises(Permanent) as no_posting:
        await lv.get_posting("not-a-posting")
    assert no_posting.value.status == 404
    posting = lever.add_posting()
    with pytest.raises(AuthFailed) as refused:
        await client(lever, http, key="nope").get_posting(posting["id"])
    assert refused.value.status == 401
    # A posting an opportunity names but Lever no longer has: the whole fetch fails, nothing half-read.
    orphan = lever.add_opportunity(updated_at=START, posting_id="gone-posting")
    with pytest.raises(Permanent) as gone:
        await lv.opportunity(orphan["id"], POLICY)
    assert gone.value.status == 404


async def test_a_429_with_retry_after_is_waited_out_then_the_fetch_succeeds(
    lever: FakeLever, http: httpx.AsyncClient
) -> None:
    posting = lever.add_posting()
    opp = lever.add_opportunity(updated_at=START, posting_id=posting["id"])
    lv = client(lever, http)
    lever.rate_limit_next(1, retry_after=3)
    with pytest.raises(RateLimited) as limited:
        await lv.opportunity(opp["id"], POLICY)
    assert limited.value.retry_after_s == 3
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    lever.rate_limit_next(1, retry_after=2)
    found = await with_retries(lambda: lv.opportunity(opp["id"], POLICY), attempts=3, sleep=sleep)
    assert waits == [2] and found.application.job_ids == (posting["id"],)
    lever.fail_next(1, 503)
    found = await with_retries(lambda: lv.opportunity(opp["id"], POLICY), attempts=3, sleep=sleep)
    assert len(waits) == 2 and found.jobs


async def test_a_stage_change_webhook_is_completed_from_the_api(
    lever: FakeLever, http: httpx.AsyncClient
) -> None:
    posting = lever.add_posting(text="Data Engineer")
    onsite = lever.add_stage("Onsite Interview")
    opp = lever.add_opportunity(
        updated_at=START, email="ada@example.com", posting_id=posting["id"], stage_id=onsite
    )
    # Lever's webhook: ids only, the stage unnamed.
    body = {
        "event": "candidateStageChange",
        "triggeredAt": 1431454330072,
        "data": {"opportunityId": opp["id"], "contactId": opp["contact"], "toStageId": onsite},
    }
    (bare,) = normalise(body, event_id="lever:token:t", policy=POLICY)
    assert isinstance(bare, StageChange) and not bare.is_interview_stage and bare.application is None
    (event,) = await ADAPTER.enrich(client(lever, http), [bare], POLICY)
    assert isinstance(event, StageChange)
    assert event.is_interview_stage and event.to_stage.name == "Onsite Interview"
    assert event.application is not None and event.application.job_ids == (posting["id"],)
    assert event.candidate is not None and event.candidate.emails == ("ada@example.com",)
    assert [j.name for j in event.jobs] == ["Data Engineer"]
