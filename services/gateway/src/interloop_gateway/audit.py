"""The gateway's doors write the audit trail (interloop_common.audit): every state-changing REST call and
every REST read of a candidate's data by an authenticated key, and every partner gRPC call — who (the key's
actor, or the partner), what (method and route), on what (the candidate, or the path), from where (the
peer address), with which outcome (the HTTP status or gRPC code), under which request id.

An entry is appended after the answer is known, in a transaction of its own for the caller's tenant; if
the audit trail cannot be written the failure is logged loudly and counted, and the answer already given
stands (the trail is evidence about the request, not a second copy of its effect)."""

from __future__ import annotations

import logging
import uuid
from typing import Any
from urllib.parse import parse_qsl

from interloop_common import audit, db, metrics
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from interloop_gateway.auth import actor_of
from interloop_gateway.store.tenants import Principal

log = logging.getLogger(__name__)
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
REQUEST_ID = "x-request-id"
AUDIT_TARGET = "audit_target"  # request.state key: what the call was about, when the path does not say


def about(request: Any, candidate_id: str) -> None:
    """Record the call in the audit trail as about this candidate (and as a read of their data)."""
    request.state[AUDIT_TARGET] = f"candidate/{candidate_id}"


def target_of(path_params: dict[str, Any], query: dict[str, Any], path: str) -> str:
    """What the call was about: the candidate when named, else the first id in the path, else the path."""
    candidate = path_params.get("candidate_id") or query.get("candidate_id")
    if candidate:
        return f"candidate/{candidate}"
    for name, value in path_params.items():
        if name.endswith("_id") or name == "token":
            return f"{name.removesuffix('_id')}/{value}"
    return path


async def append(pool: Any, *, tenant_id: str, **entry: Any) -> None:
    try:
        async with db.tenant_tx(pool, tenant_id) as conn:
            await audit.append(conn, tenant_id=tenant_id, **entry)
    except Exception as exc:  # the answer stands; the missing entry is loud
        metrics.AUDIT_FAILURES.inc()
        log.error("audit entry not written for tenant %s (%s): %s", tenant_id, entry.get("action"), exc)


def rest_middleware(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: after each tenant-key request, the entry (mutations and candidate reads)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await app(scope, receive, sending)
        finally:
            await _record(scope, status)

    return middleware


async def _record(scope: Scope, status: int) -> None:
    principal = (scope.get("state") or {}).get("principal")
    if not isinstance(principal, Principal):
        return  # no tenant key (a public route, or refused before the key was known)
    method = scope["method"]
    params = dict(scope.get("path_params") or {})
    query = dict(_query(scope))
    # a handler that learns the candidate from the body (or a stored request) names it
    named = (scope.get("state") or {}).get(AUDIT_TARGET)
    reads_candidate = method == "GET" and (bool(named) or "candidate_id" in params or "candidate_id" in query)
    if method not in UNSAFE and not reads_candidate:
        return
    template = scope.get("path_template") or scope["path"]
    headers = {k.decode().lower(): v.decode(errors="replace") for k, v in scope.get("headers", [])}
    client = scope.get("client")
    await append(
        scope["app"].state.pool,
        tenant_id=principal.tenant_id,
        actor=actor_of(principal),
        action=f"{method} {template}",
        target=named or target_of(params, query, scope["path"]),
        door=audit.Door.REST,
        remote=client[0] if client else "",
        status=status,
        request_id=headers.get(REQUEST_ID) or headers.get("idempotency-key") or str(uuid.uuid4()),
    )


def _query(scope: Scope) -> list[tuple[str, str]]:
    return parse_qsl(scope.get("query_string", b"").decode(errors="replace"))
