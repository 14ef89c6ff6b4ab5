"""The outbound guard: inside destinations refused after DNS and on every redirect, nothing of a refused
answer echoed, the connection made to the checked address, size and time caps, host pinning and
same-origin ``next`` links; loopback reachable only when configured explicitly."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import pytest
from interloop_common import outbound, vendor_http
from interloop_common.outbound import OutboundPolicy, OutboundRefused, parse_networks
from interloop_common.settings import ServiceSettings

SECRET = b'{"AccessKeyId": "ASIA-METADATA-SECRET", "Token": "do-not-echo"}'
LOOPBACK = parse_networks("127.0.0.0/8")


@dataclass
class Seen:
    path: str
    host: str
    accept_encoding: str


@dataclass
class LocalServer:
    """A plain HTTP/1.1 server on 127.0.0.1 that records what reached it."""

    port: int = 0
    seen: list[Seen] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        path = head[0].split(" ")[1]
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
        self.seen.append(Seen(path, headers.get("host", ""), headers.get("accept-encoding", "")))
        status, extra, body, chunked = await self.answer(path)
        lines = [f"HTTP/1.1 {status} X", "Connection: close", *extra]
        if chunked:
            lines.append("Transfer-Encoding: chunked")
            payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in chunked) + b"0\r\n\r\n"
        else:
            lines.append(f"Content-Length: {len(body)}")
            payload = body
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        await writer.drain()
        writer.close()

    async def answer(self, path: str) -> tuple[int, list[str], bytes, list[bytes]]:
        if path.startswith("/redirect/"):
            return 302, [f"Location: {path.removeprefix('/redirect/')}"], b"", []
        if path == "/big":
            return 200, [], b"x" * 5000, []
        if path == "/big-chunked":
            return 200, [], b"", [b"y" * 1000] * 5
        if path == "/gzip-bomb":
            return 200, ["Content-Encoding: gzip"], gzip.compress(b"\0" * (8 * 1024 * 1024)), []
        if path == "/gzip-small":
            return 200, ["Content-Encoding: gzip"], gzip.compress(b"hello " * 10), []
        if path == "/slow":
            await self.release.wait()
        return 200, ["Content-Type: application/json"], SECRET, []


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    srv = LocalServer()
    listener = await asyncio.start_server(srv.handle, "127.0.0.1", 0)
    srv.port = listener.sockets[0].getsockname()[1]
    try:
        yield srv
    finally:
        srv.release.set()
        listener.close()
        await listener.wait_closed()


def resolver(answers: dict[str, list[str]], calls: list[str] | None = None) -> outbound.Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in answers:
            raise OSError("no such host")
        return answers[host]

    return resolve


async def refusal(call: Callable[[], Awaitable[object]]) -> outbound.OutboundError:
    with pytest.raises(outbound.OutboundError) as caught:
        await call()
    return caught.value


def assert_nothing_echoed(exc: BaseException) -> None:
    text = f"{exc!s} {exc!r} {exc.args!r}"
    assert "METADATA" not in text and "do-not-echo" not in text


# -- which addresses are inside


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",
        "169.254.169.254",
        "0.0.0.0",
        "224.0.0.251",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:10.0.0.1",
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    ],
)
def test_inside_addresses_are_refused_by_default(address: str) -> None:
    assert not OutboundPolicy().address_allowed(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert OutboundPolicy().address_allowed(address)


def test_configured_ranges_deny_more_and_allow_only_what_is_named() -> None:
    cluster = OutboundPolicy(deny_networks=parse_networks("8.8.8.0/24, 2606:4700::/32"))
    assert not cluster.address_allowed("8.8.8.8") and not cluster.address_allowed("2606:4700:4700::1111")
    assert cluster.address_allowed("8.8.4.4")
    local = OutboundPolicy(allow_networks=LOOPBACK)
    assert local.address_allowed("127.0.0.1") and local.address_allowed("::ffff:127.0.0.1")
    assert not local.address_allowed("169.254.169.254") and not local.address_allowed("::1")
    both = OutboundPolicy(allow_networks=LOOPBACK, deny_networks=parse_networks("127.0.0.2"))
    assert not both.address_allowed("127.0.0.2")  # a denied range wins over an allowed one


def test_settings_carry_the_ranges_and_name_a_bad_one() -> None:
    settings = ServiceSettings(outbound_allow_networks="127.0.0.1", outbound_deny_networks="10.96.0.0/12")
    policy = OutboundPolicy.from_settings(settings, max_response_bytes=10)
    assert policy.allow_networks == parse_networks("127.0.0.1/32") and policy.max_response_bytes == 10
    assert not policy.address_allowed("10.100.0.1")
    assert ServiceSettings().outbound_allow_networks == ""  # loopback is never open by default
    with pytest.raises(ValueError, match="outbound_deny_networks"):
        ServiceSettings(outbound_deny_networks="10.0.0.0/33")


# -- over HTTP


async def test_loopback_server_is_refused_by_default_and_nothing_reaches_it(server: LocalServer) -> None:
    async with outbound.client(OutboundPolicy()) as client:
        exc = await refusal(lambda: client.get(f"{server.base}/secret"))
    assert exc.reason == "destination_not_allowed" and not exc.transient
    assert server.seen == []
    assert_nothing_echoed(exc)


async def test_loopback_is_reachable_when_configured_explicitly(server: LocalServer) -> None:
    async with outbound.client(OutboundPolicy(allow_networks=LOOPBACK)) as client:
        r = await client.get(f"{server.base}/secret")
    assert r.status_code == 200 and r.content == SECRET
    assert server.seen[0].accept_encoding == "identity"


async def test_a_metadata_shaped_name_is_refused_after_dns(server: LocalServer) -> None:
    calls: list[str] = []
    policy = OutboundPolicy(
        allow_networks=LOOPBACK,
        resolver=resolver({"metadata.attacker.test": ["169.254.169.254"]}, calls),
    )
    async with outbound.client(policy) as client:
        exc = await refusal(lambda: client.get("http://metadata.attacker.test/latest/meta-data/iam/"))
        literal = await refusal(lambda: client.get("http://169.254.169.254/latest/meta-data/"))
    assert calls == ["metadata.attacker.test"]
    assert exc.reason == literal.reason == "destination_not_allowed"
    assert_nothing_echoed(exc)


async def test_a_name_with_any_inside_address_is_refused(server: LocalServer) -> None:
    policy = OutboundPolicy(resolver=resolver({"mixed.test": ["93.184.216.34", "10.0.0.5"]}))
    async with outbound.client(policy) as client:
        exc = await refusal(lambda: client.get("http://mixed.test/"))
    assert exc.reason == "destination_not_allowed"


async def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(server: LocalServer) -> None:
    # "feed.test" exists only in this resolver: the request can only have reached the server through the
    # address the guard checked, never through a second (rebinding) lookup.
    calls: list[str] = []
    policy = OutboundPolicy(allow_networks=LOOPBACK, resolver=resolver({"feed.test": ["127.0.0.1"]}, calls))
    async with outbound.client(policy) as client:
        r = await client.get(f"http://feed.test:{server.port}/secret")
    assert r.status_code == 200 and str(r.url) == f"http://feed.test:{server.port}/secret"
    assert server.seen[0].host == f"feed.test:{server.port}" and calls == ["feed.test"]


def _self_signed(name: str) -> tuple[bytes, bytes]:
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), pem_key


async def test_tls_keeps_the_name_for_sni_and_certificate_checks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import ssl

    cert, key = _self_signed("feed.test")
    (tmp_path / "c.pem").write_bytes(cert)
    (tmp_path / "k.pem").write_bytes(key)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    names: list[str | None] = []
    server_ctx.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment,func-returns-value]
    srv = LocalServer()
    listener = await asyncio.start_server(srv.handle, "127.0.0.1", 0, ssl=server_ctx)
    srv.port = listener.sockets[0].getsockname()[1]
    trust = ssl.create_default_context(cadata=cert.decode())
    answers = {"feed.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]}
    policy = OutboundPolicy(allow_networks=LOOPBACK, resolver=resolver(answers))
    try:
        async with outbound.client(policy, verify=trust) as client:
            r = await client.get(f"https://feed.test:{srv.port}/secret")
            # same address, another name: its own connection, and the certificate (for feed.test) fails
            with pytest.raises(httpx.ConnectError):
                await client.get(f"https://other.test:{srv.port}/secret")
    finally:
        listener.close()
        await listener.wait_closed()
    assert r.status_code == 200 and srv.seen[0].host == f"feed.test:{srv.port}"
    assert names[:2] == ["feed.test", "other.test"]


async def test_every_redirect_hop_is_checked_again(server: LocalServer) -> None:
    policy = OutboundPolicy(allow_networks=LOOPBACK)
    async with outbound.client(policy, follow_redirects=True) as client:
        followed = await client.get(f"{server.base}/redirect/{server.base}/secret")
        assert followed.content == SECRET and [s.path for s in server.seen][-1] == "/secret"
        server.seen.clear()
        exc = await refusal(
            lambda: client.get(f"{server.base}/redirect/http://169.254.169.254/latest/meta-data/")
        )
        scheme = await refusal(lambda: client.get(f"{server.base}/redirect/file:///etc/passwd"))
    assert exc.reason == "destination_not_allowed" and scheme.reason == "scheme_not_allowed"
    assert [s.path for s in server.seen] == [
        "/redirect/http://169.254.169.254/latest/meta-data/",
        "/redirect/file:///etc/passwd",
    ]


async def test_redirect_loops_stop_at_the_policy_limit(server: LocalServer) -> None:
    policy = OutboundPolicy(allow_networks=LOOPBACK, max_redirects=2)
    hop = f"{server.base}/redirect/"
    async with outbound.client(policy, follow_redirects=True) as client:
        with pytest.raises(httpx.TooManyRedirects):
            await client.get(hop * 4 + f"{server.base}/secret")
    assert len(server.seen) == 3


@pytest.mark.parametrize("path", ["/big", "/big-chunked", "/gzip-bomb"])
async def test_answers_over_the_size_cap_are_refused(server: LocalServer, path: str) -> None:
    policy = OutboundPolicy(allow_networks=LOOPBACK, max_response_bytes=4096)
    async with outbound.client(policy) as client:
        exc = await refusal(lambda: client.get(server.base + path))
    assert exc.reason == "response_too_large"


async def test_a_small_gzip_answer_is_decoded(server: LocalServer) -> None:
    async with outbound.client(OutboundPolicy(allow_networks=LOOPBACK, max_response_bytes=100)) as client:
        r = await client.get(f"{server.base}/gzip-small")
    assert r.content == b"hello " * 10 and "content-encoding" not in r.headers


async def test_a_call_over_the_time_cap_is_a_transient_timeout(server: LocalServer) -> None:
    policy = OutboundPolicy(allow_networks=LOOPBACK, timeout_seconds=0.2)
    async with outbound.client(policy) as client:
        exc = await refusal(lambda: client.get(f"{server.base}/slow"))
    assert exc.reason == "timeout" and exc.transient and isinstance(exc, httpx.TimeoutException)


async def test_pinned_hosts_and_unresolvable_names() -> None:
    calls: list[str] = []
    policy = OutboundPolicy(
        resolver=resolver({"www.googleapis.com": ["142.250.1.1"]}, calls), timeout_seconds=5
    ).pinned("googleapis.com")
    assert outbound.host_matches("www.googleapis.com", policy.allowed_host_suffixes)
    assert not outbound.host_matches("googleapis.com.evil.test", policy.allowed_host_suffixes)
    assert not outbound.host_matches("evilgoogleapis.com", policy.allowed_host_suffixes)
    async with outbound.client(policy) as client:
        exc = await refusal(lambda: client.get("https://evilgoogleapis.com/x"))
    assert exc.reason == "host_not_allowed" and calls == []  # refused before any DNS lookup
    unresolvable = OutboundPolicy(resolver=resolver({}))
    async with outbound.client(unresolvable) as client:
        gone = await refusal(lambda: client.get("http://nowhere.test/"))
    assert gone.reason == "unresolvable" and gone.transient


async def test_a_pinned_policy_lets_an_explicitly_allowed_local_fake_stand_in(server: LocalServer) -> None:
    pinned = OutboundPolicy(allow_networks=LOOPBACK).pinned("googleapis.com")
    async with outbound.client(pinned) as client:
        r = await client.get(f"{server.base}/secret")
    assert r.status_code == 200
    async with outbound.client(OutboundPolicy().pinned("googleapis.com")) as client:
        exc = await refusal(lambda: client.get(f"{server.base}/secret"))
    assert exc.reason == "host_not_allowed"


def test_next_links_must_stay_on_the_same_origin() -> None:
    base = "https://harvest.greenhouse.io/v1/candidates?page=1"
    assert str(outbound.same_origin(base, "/v1/candidates?page=2")) == (
        "https://harvest.greenhouse.io/v1/candidates?page=2"
    )
    assert outbound.same_origin(base, "https://HARVEST.greenhouse.io:443/v1/x").path == "/v1/x"
    for link in (
        "https://169.254.169.254/latest/meta-data/",
        "http://harvest.greenhouse.io/v1/candidates?page=2",
        "https://harvest.greenhouse.io:8443/v1/candidates",
        "https://harvest.greenhouse.io.evil.test/v1/candidates",
        "//evil.test/v1/candidates",
    ):
        with pytest.raises(OutboundRefused) as caught:
            outbound.same_origin(base, link)
        assert caught.value.reason == "not_same_origin"


# -- through the one vendor-HTTP helper


async def test_vendor_http_opts_in_with_one_argument_and_refusals_are_permanent(server: LocalServer) -> None:
    attempts = 0

    async def call() -> httpx.Response:
        nonlocal attempts
        attempts += 1
        return await vendor_http.send("ics", client, "GET", f"{server.base}/secret")

    async with vendor_http.client(guard=OutboundPolicy(), timeout=5) as client:
        with pytest.raises(vendor_http.Refused) as caught:
            await vendor_http.with_retries(call, attempts=4, sleep=lambda s: asyncio.sleep(0))
    assert attempts == 1 and caught.value.reason == "destination_not_allowed"
    assert str(caught.value) == "ics: destination_not_allowed" and caught.value.body is None
    assert server.seen == []
    async with vendor_http.client(
        guard=OutboundPolicy(allow_networks=LOOPBACK, timeout_seconds=0.2)
    ) as client:
        with pytest.raises(vendor_http.Transient) as slow:
            await vendor_http.send("ics", client, "GET", f"{server.base}/slow")
    assert str(slow.value) == "ics: timeout"
    async with vendor_http.client() as plain:  # without the argument: a plain client, as before
        assert not isinstance(plain, outbound.GuardedClient)
