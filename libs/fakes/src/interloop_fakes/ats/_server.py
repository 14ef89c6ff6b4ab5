"""Run a Litestar app with uvicorn on a free local port in a background thread, plus the behaviours
every fake vendor shares: request/write log, injected 429s, outages (5xx for a while), auth gate."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import uvicorn
from litestar import Litestar, Request, Response


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(slots=True)
class _Injected:
    rate_limits: int = 0
    retry_after: float | None = 1.0
    failures: int = 0
    failure_status: int = 503
    down: bool = False


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        content=json.dumps(body).encode(),
        status_code=status,
        headers={"Content-Type": "application/json", **(headers or {})},
        media_type="application/json",
    )


class FakeVendor:
    """Base class: subclasses implement ``routes()`` and ``check_auth()`` and keep in-memory state."""

    provider = "fake"
    write_methods = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.requests: list[RecordedRequest] = []
        self.writes: list[RecordedRequest] = []  # accepted writes only (2xx), for exactly-once assertions
        self._injected = _Injected()
        # Seconds every request waits before it is answered (a slow vendor; benchmarks, crash tests).
        self.latency = 0.0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # -- test controls

    def rate_limit_next(self, n: int = 1, retry_after: float | None = 1.0) -> None:
        """The next ``n`` requests get the vendor's throttle response (429 + Retry-After)."""
        with self.lock:
            self._injected.rate_limits, self._injected.retry_after = n, retry_after

    def fail_next(self, n: int = 1, status: int = 503) -> None:
        with self.lock:
            self._injected.failures, self._injected.failure_status = n, status

    def set_down(self, down: bool = True, status: int = 503) -> None:
        """ "Vendor down": every request fails with ``status`` until ``set_down(False)``."""
        with self.lock:
            self._injected.down, self._injected.failure_status = down, status

    def writes_to(self, path_fragment: str, method: str | None = None) -> list[RecordedRequest]:
        with self.lock:
            return [
                w for w in self.writes if path_fragment in w.path and (method is None or w.method == method)
            ]

    # -- hooks for subclasses

    def routes(self) -> list[Any]:
        raise NotImplementedError

    def check_auth(self, request: Request) -> Response | None:
        return None

    def throttle_response(self, retry_after: float | None) -> Response:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        return json_response({"message": "Too Many Requests"}, 429, headers)

    def failure_response(self, status: int) -> Response:
        return json_response({"message": "Service Unavailable"}, status)

    # -- plumbing

    async def _before(self, request: Request) -> Response | None:
        if self.latency:
            await asyncio.sleep(self.latency)
        body = await request.body()
        recorded = RecordedRequest(
            request.method, request.url.path, request.url.query or "", dict(request.headers), body
        )
        with self.lock:
            self.requests.append(recorded)
            inj = self._injected
            if inj.down:
                return self.failure_response(inj.failure_status)
            if inj.failures > 0:
                inj.failures -= 1
                return self.failure_response(inj.failure_status)
            if inj.rate_limits > 0:
                inj.rate_limits -= 1
                return self.throttle_response(inj.retry_after)
        return self.check_auth(request)

    def _record_write(self, request: Request, body: bytes) -> None:
        with self.lock:
            self.writes.append(
                RecordedRequest(
                    request.method, request.url.path, request.url.query or "", dict(request.headers), body
                )
            )

    def app(self) -> Litestar:
        return Litestar(
            route_handlers=self.routes(), before_request=self._before, openapi_config=None, debug=False
        )

    def start(self) -> str:
        """Start serving on 127.0.0.1:<free port>; returns the base URL."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(self.app(), log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"fake-{self.provider}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"fake {self.provider} did not start")
            time.sleep(0.01)
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def parse_json_body(body: bytes) -> tuple[Any, str | None]:
    if not body:
        return None, "empty body"
    try:
        return json.loads(body), None
    except ValueError as exc:
        return None, f"invalid JSON: {exc}"


def basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:] if header.lower().startswith("bearer ") else None


__all__ = [
    "FakeVendor",
    "RecordedRequest",
    "json_response",
    "parse_json_body",
    "basic_credentials",
    "bearer_token",
]
