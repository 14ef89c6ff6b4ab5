"""The outbound guard: every HTTP call a tenant can steer (a calendar feed, a vendor base URL, a token URL,
a followed ``next`` link, a webhook) goes out through it.

The destination host is resolved and refused when any of its addresses is inside: loopback, link-local
(169.254.169.254, the cloud metadata service, included), private RFC 1918, CGNAT, ULA, unspecified,
multicast, reserved and documentation ranges, the IPv4 addresses hidden in IPv6 forms (mapped, NAT64,
6to4), and the configured extra ranges (the cluster's pod and service CIDRs). Every redirect hop is checked
again; the connection goes to the address that was checked (the URL is rewritten to it, Host and TLS SNI
keep the name), so a second DNS answer cannot swap in an inside address. Answers are capped in size
(decompressed) and in total time. Hosts can be pinned per provider (allowed suffixes).

A refusal is an ``OutboundError`` whose ``reason`` is a fixed code; it never carries a body. Loopback is
reachable only through ``allow_networks`` set explicitly (the dev stack's and the tests' local fakes)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

# The fixed reason codes an outbound refusal carries.
DESTINATION_NOT_ALLOWED = "destination_not_allowed"
HOST_NOT_ALLOWED = "host_not_allowed"
SCHEME_NOT_ALLOWED = "scheme_not_allowed"
NOT_SAME_ORIGIN = "not_same_origin"
RESPONSE_TOO_LARGE = "response_too_large"
UNSUPPORTED_ENCODING = "unsupported_encoding"
UNRESOLVABLE = "unresolvable"
TIMEOUT = "timeout"

MiB = 1024 * 1024

INSIDE_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network", 0.0.0.0
        "10.0.0.0/8",
        "100.64.0.0/10",  # CGNAT (shared address space)
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, 255.255.255.255
        "::/96",  # unspecified, loopback, IPv4-compatible
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard
        "2001::/23",  # IETF protocol assignments (Teredo, ORCHID, ...)
        "2001:db8::/32",
        "fc00::/7",  # unique local (ULA)
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local
        "ff00::/8",  # multicast
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundError(httpx.RequestError):
    """The guard stopped a call; ``reason`` is one of the fixed codes above, never vendor text."""

    transient: ClassVar[bool] = False

    def __init__(self, reason: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(reason, request=request)
        self.reason = reason


class OutboundRefused(OutboundError):
    """The destination or the answer is not allowed: the same call will always be refused."""


class OutboundTimeout(OutboundError, httpx.TimeoutException):
    """The call ran over the policy's total time."""

    transient = True


class OutboundUnresolvable(OutboundError, httpx.ConnectError):
    """The host name has no address (DNS may answer later)."""

    transient = True


def parse_networks(text: str | Iterable[str], setting: str = "networks") -> tuple[IPNetwork, ...]:
    """'10.0.0.0/8, fd00::/8, 127.0.0.1' -> networks; a bad entry names the setting and the entry."""
    items = text.split(",") if isinstance(text, str) else list(text)
    out: list[IPNetwork] = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"{setting}: {item!r} is not an IP network (e.g. 10.96.0.0/12 or 127.0.0.1)"
            ) from None
    return tuple(out)


def _within(ip: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    return any(ip.version == n.version and ip in n for n in networks)


def _forms(ip: IPAddress) -> list[IPAddress]:
    """The address and the IPv4 address an IPv6 form carries (mapped, NAT64, 6to4)."""
    if isinstance(ip, ipaddress.IPv4Address):
        return [ip]
    ip = ipaddress.IPv6Address(ip.packed)  # drop a %zone
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip in _NAT64:
        return [ip, ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip.sixtofour is not None:
        return [ip, ip.sixtofour]
    return [ip]


def host_matches(host: str, suffixes: Iterable[str]) -> bool:
    """``host`` is one of ``suffixes`` or a subdomain of one ('api.example.com' matches 'example.com')."""
    host = host.lower().rstrip(".")
    for suffix in suffixes:
        suffix = suffix.lower().strip(".")
        if host == suffix or host.endswith("." + suffix):
            return True
    return False


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class OutboundPolicy:
    """Where a tenant-steered call may go and how much it may bring back.

    ``allow_networks`` opens ranges the built-in list closes (loopback for local fakes): empty unless
    configured. ``deny_networks`` closes more (cluster CIDRs) and wins over ``allow_networks``.
    ``allowed_host_suffixes`` pins the host names (empty: any host); an IP literal inside
    ``allow_networks`` passes the pin, so the local fakes stand in for a pinned vendor."""

    allow_networks: tuple[IPNetwork, ...] = ()
    deny_networks: tuple[IPNetwork, ...] = ()
    allowed_host_suffixes: tuple[str, ...] = ()
    max_response_bytes: int = 10 * MiB
    timeout_seconds: float = 30.0
    max_redirects: int = 5
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> OutboundPolicy:
        """From a service's ``outbound_allow_networks`` / ``outbound_deny_networks`` settings."""
        return cls(
            allow_networks=parse_networks(settings.outbound_allow_networks, "outbound_allow_networks"),
            deny_networks=parse_networks(settings.outbound_deny_networks, "outbound_deny_networks"),
            **overrides,
        )

    def pinned(self, *suffixes: str) -> OutboundPolicy:
        return replace(self, allowed_host_suffixes=tuple(suffixes))

    def address_allowed(self, address: str | IPAddress) -> bool:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        forms = _forms(ip)
        if any(_within(f, self.deny_networks) for f in forms):
            return False
        if any(_within(f, self.allow_networks) for f in forms):
            return True
        return not any(_within(f, INSIDE_NETWORKS) for f in forms)

    def _explicitly_allowed(self, host: str) -> bool:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        return _within(ip, self.allow_networks) and self.address_allowed(ip)

    def check_host(self, host: str) -> None:
        if self.allowed_host_suffixes and not host_matches(host, self.allowed_host_suffixes):
            if not self._explicitly_allowed(host):
                raise OutboundRefused(HOST_NOT_ALLOWED)

    async def addresses(self, host: str, port: int) -> list[str]:
        """The checked addresses of ``host`` (IPv4 first); refused if any of them is inside."""
        self.check_host(host)
        try:
            found = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                found = list(dict.fromkeys(await self.resolver(host, port)))
            except (OSError, UnicodeError):
                raise OutboundUnresolvable(UNRESOLVABLE) from None
        if not found:
            raise OutboundUnresolvable(UNRESOLVABLE)
        try:
            parsed = [ipaddress.ip_address(a) for a in found]
        except ValueError:
            raise OutboundRefused(DESTINATION_NOT_ALLOWED) from None
        if not all(self.address_allowed(ip) for ip in parsed):
            raise OutboundRefused(DESTINATION_NOT_ALLOWED)
        return [str(ip) for ip in sorted(parsed, key=lambda ip: ip.version)]


def same_origin(base: str | httpx.URL, link: str | httpx.URL) -> httpx.URL:
    """``link`` (a vendor's ``next`` page, maybe relative) resolved against ``base``; refused unless it has
    the same scheme, host and port, so credentials attached to ``base`` never follow it elsewhere."""
    origin = httpx.URL(base)
    target = origin.join(link)

    def key(url: httpx.URL) -> tuple[str, str, int | None]:
        return url.scheme, url.host.lower(), url.port or {"http": 80, "https": 443}.get(url.scheme)

    if key(target) != key(origin):
        raise OutboundRefused(NOT_SAME_ORIGIN)
    return target


_KEEP_ALIVE_HOSTS = 32


class GuardedTransport(httpx.AsyncBaseTransport):
    """Checks every request (every redirect hop is one) against the policy, connects to the checked
    address, and reads the whole answer within the size and time caps."""

    def __init__(
        self, policy: OutboundPolicy, *, verify: ssl.SSLContext | bool = True, **kwargs: Any
    ) -> None:
        self.policy = policy
        self._verify = (
            verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        )
        self._kwargs = kwargs
        # One pool per host name: a pooled TLS connection was verified for one name, never reused for another
        # name that resolves to the same address.
        self._pools: dict[str, httpx.AsyncHTTPTransport] = {}
        self._spare: httpx.AsyncHTTPTransport | None = None

    def _pool(self, host: str) -> httpx.AsyncHTTPTransport:
        pool = self._pools.get(host)
        if pool is None and len(self._pools) < _KEEP_ALIVE_HOSTS:
            pool = self._pools[host] = httpx.AsyncHTTPTransport(verify=self._verify, **self._kwargs)
        if pool is None:
            if self._spare is None:  # beyond the pooled hosts: no connection is kept for reuse
                limits = httpx.Limits(max_keepalive_connections=0)
                self._spare = httpx.AsyncHTTPTransport(
                    verify=self._verify, **{**self._kwargs, "limits": limits}
                )
            pool = self._spare
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            async with asyncio.timeout(self.policy.timeout_seconds):
                return await self._send(request)
        except TimeoutError:
            raise OutboundTimeout(TIMEOUT, request=request) from None

    async def _send(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise OutboundRefused(SCHEME_NOT_ALLOWED, request=request)
        host = url.raw_host.decode("ascii").lower()
        if not host:
            raise OutboundRefused(DESTINATION_NOT_ALLOWED, request=request)
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = await self.policy.addresses(host, port)
        pool = self._pool(host)
        extensions = dict(request.extensions)
        if url.scheme == "https" and addresses != [host]:
            extensions["sni_hostname"] = host
        headers = httpx.Headers(request.headers)
        headers["Accept-Encoding"] = "identity"  # sizes are capped on what was sent; see _read
        response: httpx.Response | None = None
        for i, address in enumerate(addresses[:3]):
            hop = httpx.Request(
                request.method,
                url.copy_with(host=address),
                headers=headers,
                stream=request.stream,
                extensions=extensions,
            )
            try:
                response = await pool.handle_async_request(hop)
                break
            except httpx.ConnectError:
                if i == len(addresses[:3]) - 1:
                    raise
        assert response is not None
        try:
            body = await self._read(response)
        finally:
            await response.aclose()
        out = httpx.Headers(response.headers)
        for name in ("content-length", "content-encoding", "transfer-encoding"):
            out.pop(name, None)
        return httpx.Response(
            response.status_code,
            headers=out,
            content=body,
            extensions={k: v for k, v in response.extensions.items() if k != "network_stream"},
            request=request,
        )

    async def _read(self, response: httpx.Response) -> bytes:
        limit = self.policy.max_response_bytes
        declared = response.headers.get("content-length", "")
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding in ("", "identity") and declared.isdigit() and int(declared) > limit:
            raise OutboundRefused(RESPONSE_TOO_LARGE)
        if encoding in ("", "identity"):
            inflate = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            inflate = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header
        else:
            raise OutboundRefused(UNSUPPORTED_ENCODING)
        body = bytearray()
        assert isinstance(response.stream, httpx.AsyncByteStream)
        async for chunk in response.stream:
            if inflate is None:
                body += chunk
            else:
                try:
                    while chunk and len(body) <= limit:
                        body += inflate.decompress(chunk, limit + 1 - len(body))
                        chunk = inflate.unconsumed_tail
                except zlib.error:
                    raise OutboundRefused(UNSUPPORTED_ENCODING) from None
            if len(body) > limit:
                raise OutboundRefused(RESPONSE_TOO_LARGE)
        if inflate is not None:
            body += inflate.flush()
            if len(body) > limit:
                raise OutboundRefused(RESPONSE_TOO_LARGE)
        return bytes(body)

    async def aclose(self) -> None:
        for pool in [*self._pools.values(), *([self._spare] if self._spare else [])]:
            await pool.aclose()
        self._pools.clear()
        self._spare = None


class GuardedClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` whose every request, redirects included, ends within the policy's time."""

    def __init__(self, policy: OutboundPolicy, **kwargs: Any) -> None:
        self.policy = policy
        super().__init__(**kwargs)

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        try:
            async with asyncio.timeout(self.policy.timeout_seconds):
                return await super().send(request, **kwargs)
        except TimeoutError:
            raise OutboundTimeout(TIMEOUT, request=request) from None


def client(policy: OutboundPolicy, *, verify: ssl.SSLContext | bool = True, **kwargs: Any) -> GuardedClient:
    """A client for tenant-steered calls. Environment proxies are ignored (a proxy would connect to what
    it likes); other keyword arguments go to ``httpx.AsyncClient``."""
    for name in ("transport", "mounts", "proxy", "trust_env"):
        if name in kwargs:
            raise TypeError(f"{name}: the outbound guard sets it")
    return GuardedClient(
        policy,
        transport=GuardedTransport(policy, verify=verify),
        trust_env=False,
        max_redirects=policy.max_redirects,
        **kwargs,
    )
