"""Connection URLs, followed ``next`` links and automation webhooks are the tenant's to choose: every call
sync makes passes the outbound guard. Against the local fakes (on loopback): reached only when loopback
is opened explicitly, a metadata-shaped destination refused with nothing requested, a ``next`` link to
another origin refused before the API key goes anywhere, a webhook to an inside address (directly or by a
redirect) refused, and a vendor's 4xx body never in what a failure says."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from interloop_common import vendor_http
from interloop_fakes.ats import FakeBambooHR, FakeGreenhouse, FakeLever, FakeVendor, FakeWorkday
from interloop_sync.domain.credentials import Credentials, Secret
from interloop_sync.settings import SyncSettings
from interloop_sync.store.connections import Connection
from interloop_sync.usecases.context import WEBHOOK, http_clients, outbound_policies
from interloop_sync.vendors import registry
from interloop_sync.vendors._http import reason, send, url_problem
from interloop_sync.vendors.greenhouse import GreenhouseConfig, GreenhouseHarvest
from litestar import Request, Response, post

SECRET = "AKIA-METADATA-SECRET-do-not-echo"
OPEN = SyncSettings(outbound_allow_networks="127.0.0.0/8")
CLOSED = SyncSettings(outbound_allow_networks="")
NOW = datetime(2026, 1, 5, tzinfo=UTC)


async def _clients(settings: SyncSettings) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    clients = http_clients(outbound_policies(settings), settings)
    yield clients
    for c in clients.values():
        await c.aclose()


@pytest.fixture
async def closed() -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    async for clients in _clients(CLOSED):
        yield clients


@pytest.fixture
async def opened() -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    async for clients in _clients(OPEN):
        yield clients


def connection(provider: str, base_url: str, **settings: str) -> Connection:
    return Connection(
        tenant_id="t",
        id=str(uuid.uuid4()),
        provider=provider,
        mode="active",
        owner="owner@acme.test",
        base_url=base_url,
        credentials=b"",
        created_at=NOW,
        settings=settings,
    )


async def read_once(provider: str, clients: dict[str, httpx.AsyncClient], fake: Any, base_url: str) -> Any:
    """One read through the provider's adapter, as reconciliation or the read-back makes it."""
    if provider == "greenhouse":
        c = connection(provider, base_url)
        creds = Credentials(provider, {"api_key": Secret(fake.api_key)})
        return await registry.ats(provider).client(clients[provider], c, creds).changed_since(None, None)
    if provider == "lever":
        c = connection(provider, f"{base_url}/v1")
        creds = Credentials(provider, {"api_key": Secret(fake.api_key)})
        return await registry.ats(provider).client(clients[provider], c, creds).changed_since(None, None)
    if provider == "workday":
        c = connection(provider, base_url, tenant=fake.tenant)
        creds = Credentials(provider, {k: Secret(v) for k, v in fake.credentials.items()})
        hris = registry.hris(provider).client(clients[provider], c, creds)
        hire = {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "department": "ORG-ENG",
            "start_date": "2026-02-01",
        }
        return await hris.create_hire(hire, idempotency_key="k1")
    c = connection(provider, base_url, company_domain=fake.company_domain)
    creds = Credentials(provider, {"api_key": Secret(fake.api_key)})
    hris = registry.hris(provider).client(clients[provider], c, creds)
    return await hris.create_hire({"first_name": "Ada", "last_name": "Lovelace"}, idempotency_key="k1")


FAKES = {
    "greenhouse": FakeGreenhouse,
    "lever": FakeLever,
    "workday": FakeWorkday,
    "bamboohr": FakeBambooHR,
}


def test_every_registered_vendor_is_pinned_to_its_own_hosts() -> None:
    policies = outbound_policies(CLOSED)
    assert set(FAKES) == set(registry.providers())
    for provider in registry.providers():
        hosts = registry.adapter(provider).hosts  # type: ignore[union-attr]
        assert hosts and policies[provider].allowed_host_suffixes == hosts
    assert policies[WEBHOOK].allowed_host_suffixes == ()  # any public host, no inside address


@pytest.mark.parametrize("provider", list(FAKES))
async def test_each_vendor_reaches_loopback_only_when_it_is_opened_explicitly(
    provider: str, closed: dict[str, httpx.AsyncClient], opened: dict[str, httpx.AsyncClient]
) -> None:
    with FAKES[provider]() as fake:
        with pytest.raises(vendor_http.Refused) as refused:
            await read_once(provider, closed, fake, fake.base_url)
        assert refused.value.reason == "host_not_allowed"  # 127.0.0.1 is no vendor host
        assert fake.requests == []
        await read_once(provider, opened, fake, fake.base_url)
        assert fake.requests, "an opened loopback reaches the fake"


async def test_a_vendor_host_resolving_inside_is_refused_with_nothing_requested() -> None:
    """DNS that answers a vendor's name with an inside address (loopback, where the fake listens, or the
    metadata service) is refused before anything is sent, unless that network is opened explicitly."""
    with FakeGreenhouse() as fake:
        port = httpx.URL(fake.base_url).port
        base = f"http://harvest.greenhouse.io:{port}"

        def resolving_to(address: str) -> Any:
            async def resolve(host: str, port: int) -> list[str]:
                return [address]

            return resolve

        for settings, address, expected in (
            (CLOSED, "127.0.0.1", "destination_not_allowed"),
            (OPEN, "169.254.169.254", "destination_not_allowed"),
            (OPEN, "::ffff:169.254.169.254", "destination_not_allowed"),
        ):
            policy = dataclasses.replace(
                outbound_policies(settings)["greenhouse"], resolver=resolving_to(address)
            )
            async with vendor_http.client(guard=policy) as http:
                harvest = GreenhouseHarvest(http, GreenhouseConfig(base_url=base, api_key=fake.api_key))
                with pytest.raises(vendor_http.Refused) as refused:
                    await harvest.list_applications()
            assert refused.value.reason == expected, (settings.outbound_allow_networks, address)
        assert fake.requests == []

        # the control: the same name, resolved to the fake, with loopback opened
        policy = dataclasses.replace(
            outbound_policies(OPEN)["greenhouse"], resolver=resolving_to("127.0.0.1")
        )
        async with vendor_http.client(guard=policy) as http:
            harvest = GreenhouseHarvest(http, GreenhouseConfig(base_url=base, api_key=fake.api_key))
            await harvest.list_applications()
        assert [r.headers["host"] for r in fake.requests] == [f"harvest.greenhouse.io:{port}"]


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/role",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
    ],
)
async def test_a_metadata_base_url_is_refused_for_every_vendor(
    url: str, opened: dict[str, httpx.AsyncClient]
) -> None:
    for provider, fake_cls in FAKES.items():
        fake = fake_cls()  # never started: its credentials only
        with pytest.raises(vendor_http.Refused) as refused:
            await read_once(provider, opened, fake, url)
        assert refused.value.reason == "host_not_allowed", provider
    with pytest.raises(vendor_http.Refused) as refused:
        await send(WEBHOOK, opened[WEBHOOK], "POST", url, json={})
    assert refused.value.reason == "destination_not_allowed"


async def test_a_next_link_to_another_origin_is_refused_without_sending_the_key(
    opened: dict[str, httpx.AsyncClient],
) -> None:
    with FakeGreenhouse() as vendor, FakeGreenhouse() as elsewhere:
        vendor.seed_candidates(3)
        real = vendor.base_url
        vendor.base_url = elsewhere.base_url  # the vendor's Link header now names another origin
        harvest = GreenhouseHarvest(
            opened["greenhouse"], GreenhouseConfig(base_url=real, api_key=vendor.api_key)
        )
        with pytest.raises(vendor_http.Refused) as refused:
            await harvest.list_applications(per_page=1)
        assert refused.value.reason == "not_same_origin"
        # a cursor persisted earlier that names another origin is refused the same way
        with pytest.raises(vendor_http.Refused):
            await harvest.list_applications(cursor=f"{elsewhere.base_url}/v1/applications?page=2")
        assert len(vendor.requests) == 1 and elsewhere.requests == []
        vendor.base_url = real
        page = await harvest.list_applications(per_page=1)
        assert page.next_cursor and page.next_cursor.startswith(real)
        await harvest.list_applications(cursor=page.next_cursor)  # the same origin is followed
        assert len(vendor.requests) == 3 and elsewhere.requests == []


class Receiver(FakeVendor):
    """A tenant's webhook endpoint: ``/hook`` answers 200, ``/moved`` redirects to ``location``."""

    provider = "receiver"

    def __init__(self) -> None:
        super().__init__()
        self.location = ""

    def routes(self) -> list[Any]:
        @post("/hook")
        async def hook(request: Request) -> Response:
            self._record_write(request, await request.body())
            return Response(content=b"{}", status_code=200, media_type="application/json")

        @post("/moved")
        async def moved(request: Request) -> Response:
            return Response(content=b"", status_code=307, headers={"Location": self.location})

        return [hook, moved]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


async def test_a_webhook_to_an_inside_address_is_refused_even_by_a_redirect(
    receiver: Receiver, closed: dict[str, httpx.AsyncClient]
) -> None:
    with pytest.raises(vendor_http.Refused) as refused:
        await send(WEBHOOK, closed[WEBHOOK], "POST", f"{receiver.base_url}/hook", json={"a": 1})
    assert refused.value.reason == "destination_not_allowed"
    assert receiver.requests == []

    # only the receiver's own address is opened: a redirect from it to an inside address is checked again
    settings = SyncSettings(outbound_allow_networks="127.0.0.1/32")
    async with http_clients(outbound_policies(settings), settings)[WEBHOOK] as http:
        assert (await send(WEBHOOK, http, "POST", f"{receiver.base_url}/hook", json={})).status_code == 200
        for inside in ("http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://127.0.0.2/"):
            receiver.location = inside
            with pytest.raises(vendor_http.Refused) as refused:
                await send(WEBHOOK, http, "POST", f"{receiver.base_url}/moved", json={})
            assert refused.value.reason == "destination_not_allowed", inside
        receiver.location = f"{receiver.base_url}/hook"
        assert (await send(WEBHOOK, http, "POST", f"{receiver.base_url}/moved", json={})).status_code == 200
    assert len(receiver.writes) == 2


class LeakyGreenhouse(FakeGreenhouse):
    """Refuses with the secret in its error body (a metadata document echoed back, say)."""

    def failure_response(self, status: int) -> Response:
        body = {"message": SECRET, "errors": [{"field": "name", "message": SECRET}], "token": SECRET}
        return Response(content=json.dumps(body).encode(), status_code=status, media_type="application/json")


@pytest.mark.parametrize(
    ("status", "code"), [(401, "auth_failed"), (422, "validation_failed"), (404, "request_refused")]
)
async def test_a_vendor_refusal_says_a_fixed_code_and_the_status_never_the_body(
    status: int, code: str, opened: dict[str, httpx.AsyncClient]
) -> None:
    with LeakyGreenhouse() as fake:
        fake.set_down(True, status=status)
        harvest = GreenhouseHarvest(
            opened["greenhouse"], GreenhouseConfig(base_url=fake.base_url, api_key=fake.api_key)
        )
        with pytest.raises(vendor_http.Permanent) as refused:
            await harvest.list_applications()
    exc = refused.value
    assert reason(exc) == f"greenhouse: {code} (HTTP {status})"
    for said in (str(exc), repr(exc), reason(exc), f"{type(exc).__name__}: {exc}"):
        assert SECRET not in said
    assert exc.status == status and SECRET in str(exc.body)  # the adapter may still read its body


def test_connection_urls_must_be_the_vendors_over_https() -> None:
    closed = outbound_policies(CLOSED)
    opened = outbound_policies(OPEN)
    assert url_problem("https://harvest.greenhouse.io", closed["greenhouse"]) is None
    assert url_problem("https://wd5-impl-services1.workday.com", closed["workday"]) is None
    assert url_problem("https://auth.lever.co/oauth/token", closed["lever"]) is None
    assert url_problem("http://127.0.0.1:8080", opened["bamboohr"]) is None  # the local fakes
    refused = {
        "http://harvest.greenhouse.io": ("greenhouse", "http only for an address in OUTBOUND_ALLOW_NETWORKS"),
        "https://user:pw@harvest.greenhouse.io": ("greenhouse", "no user name or password"),
        "https://harvest.greenhouse.io.attacker.test": ("greenhouse", "is not the vendor's"),
        "https://api.lever.co.evil.test/v1": ("lever", "is not the vendor's"),
        "http://169.254.169.254/latest": ("workday", "an address the outbound guard refuses"),
        "http://127.0.0.1:8080": ("bamboohr", "an address the outbound guard refuses"),
        "ftp://api.bamboohr.com": ("bamboohr", "expected an https URL on api.bamboohr.com"),
        "": ("lever", "expected an https URL"),
    }
    for url, (provider, why) in refused.items():
        problem = url_problem(url, closed[provider])
        assert problem is not None and why in problem, (url, problem)
    # what would be right: the vendor's hosts
    assert "harvest.greenhouse.io" in (url_problem("https://evil.test", closed["greenhouse"]) or "")
