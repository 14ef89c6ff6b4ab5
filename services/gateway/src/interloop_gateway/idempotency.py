"""`Idempotency-Key` on the tenant API's unsafe methods (Stripe semantics), as one decorator:

    @post("/", status_code=201)
    @idempotent
    async def create(self, request: Request, data: In) -> Out: ...

The first answer for a key (its status and JSON body) is stored and replayed, with `Idempotent-Replayed:
true`, to retries with the same request; the same key with a different request is a 422, and a key whose
first attempt is still running is a 409. A key belongs to the API key that sent it. A failed attempt
(any error) is forgotten, so it may be retried with the same key; an attempt whose gateway died holds its
key only until its lease (settings.idempotency_lease_seconds) runs out.

The backends' calls carry a key derived from it (backends.carrying), which each backend records in the
transaction of its own change: when the gateway gave up waiting (a 504) after the backend had committed,
the retry gets the backend's first answer, so it does not run twice."""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from litestar import Request, Response
from litestar.enums import MediaType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Parameter
from litestar.serialization import encode_json, get_serializer
from litestar.utils.helpers import unwrap_partial

from interloop_gateway import backends
from interloop_gateway.auth import principal_of
from interloop_gateway.problems import problem
from interloop_gateway.store import idempotency as store

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
_MARK = "__interloop_idempotent__"

# Documents the header in OpenAPI; the value is read (and checked) from the request itself.
KeyHeader = Annotated[
    str | None,
    Parameter(
        header=HEADER,
        required=False,
        description=(
            f"1..{MAX_KEY_LENGTH} characters chosen by the client. A retry with the same key and request "
            f"gets the first answer again (with `{REPLAYED}: true`); the same key with another request "
            "is 422, and while the first attempt runs, 409."
        ),
    ),
]

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def idempotent(fn: F) -> F:
    """Give a route handler `Idempotency-Key` behaviour (put it under the @post/@put decorator)."""
    sig = inspect.signature(fn)
    takes_request = "request" in sig.parameters
    params = list(sig.parameters.values())
    annotations = dict(fn.__annotations__)
    if not takes_request:
        params.append(inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request))
        annotations["request"] = Request
    params.append(
        inspect.Parameter(
            "idempotency_key", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=KeyHeader
        )
    )
    annotations["idempotency_key"] = KeyHeader

    @functools.wraps(fn)
    async def handler(*args: Any, **kwargs: Any) -> Any:
        kwargs.pop("idempotency_key", None)
        request: Request = kwargs["request"] if takes_request else kwargs.pop("request")
        return await run(request, lambda: fn(*args, **kwargs))

    handler.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    handler.__annotations__ = annotations
    setattr(handler, _MARK, True)
    return handler  # type: ignore[return-value]


def is_idempotent(route_handler: HTTPRouteHandler) -> bool:
    return bool(getattr(unwrap_partial(route_handler.fn), _MARK, False))


async def run(request: Request, action: Callable[[], Awaitable[Any]]) -> Any:
    """The handler's answer: as it is without an Idempotency-Key, else rendered, stored and replayable."""
    key = request.headers.get(HEADER.lower())
    if key is None:
        return await action()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise problem(400, f"{HEADER} must be 1..{MAX_KEY_LENGTH} characters")
    principal = principal_of(request)
    attempt = store.Attempt(principal.tenant_id, principal.key_id, key)
    lease = request.app.state.settings.idempotency_lease_seconds
    body = await request.body()
    digest = hashlib.sha256(request.method.encode() + request.url.path.encode() + b"\0" + body).digest()
    pool = request.app.state.pool
    async with pool.acquire() as conn:
        if not await store.claim(conn, attempt, request.method, request.url.path, digest, lease):
            stored = await store.find(conn, attempt)
            if stored is not None and stored.request_hash != digest:
                raise problem(422, f"this {HEADER} was already used with a different request")
            if stored is not None and stored.status is not None:
                return Response(
                    stored.response or b"",
                    status_code=stored.status,
                    media_type=MediaType.JSON,
                    headers={REPLAYED: "true"},
                )
            if stored is None or not (stored.lease_lapsed and await store.reclaim(conn, attempt, lease)):
                raise problem(409, f"a request with this {HEADER} is still in progress; retry later")
    # the backends record the call under a key of their own (the same for every retry of this request)
    carried = hashlib.sha256(
        b"\0".join(x.encode() for x in (principal.key_id, key, request.method, request.url.path))
    ).hexdigest()
    try:
        with backends.carrying(carried):
            value = await action()
    except Exception:
        async with pool.acquire() as conn:
            await store.release(conn, attempt)
        raise
    route = request.route_handler
    status = route.status_code
    rendered = encode_json(value, serializer=get_serializer(route.resolve_type_encoders()))
    async with pool.acquire() as conn:
        await store.answer(conn, attempt, status, rendered)
    return Response(rendered, status_code=status, media_type=MediaType.JSON)
