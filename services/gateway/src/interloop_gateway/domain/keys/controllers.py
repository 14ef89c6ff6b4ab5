"""REST: a tenant admin's API keys — list, issue, rotate, revoke. A key is shown once, when issued or
rotated, and stored only as its hash; its id is a fragment of that hash (what the audit trail records as the
actor). Compliance and partner access is not issued here: an admin cannot mint itself the demographic data
kept for compliance (the operator CLI issues those keys)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from interloop_common.clock import utc_now
from litestar import Controller, Request, delete, get, post

from interloop_gateway.auth import actor_of, allow, principal_of, require_api_key
from interloop_gateway.idempotency import idempotent
from interloop_gateway.problems import problem
from interloop_gateway.store import tenants as store
from interloop_gateway.wire import Timestamp, iso

# What an admin may issue over REST; "compliance" and "partner" come from the operator only.
Issuable = Literal["admin", "recruiter", "interviewer"]


class KeyIn(msgspec.Struct):
    scopes: Annotated[list[Issuable], msgspec.Meta(min_length=1, max_length=3)]
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    # bind the key to one interviewer (then scopes must be exactly ["interviewer"])
    interviewer_id: Annotated[str, msgspec.Meta(max_length=200)] = ""


class RotateIn(msgspec.Struct):
    # how long the old key keeps working, so clients can switch over (0: it stops now)
    grace_hours: Annotated[float, msgspec.Meta(ge=0, le=168)] = 24


class KeyOut(msgspec.Struct):
    id: str
    prefix: str
    scopes: list[str]
    name: str
    created_by: str
    created_at: Timestamp
    status: str  # active, expiring (rotated, in its grace period), expired or revoked
    interviewer_id: str = ""
    expires_at: Timestamp | None = None
    revoked_at: Timestamp | None = None
    revoked_by: str = ""


class IssuedKeyOut(msgspec.Struct):
    # the key itself: shown this once, never again
    key: str
    details: KeyOut


class KeysOut(msgspec.Struct):
    items: list[KeyOut]


def key_out(r: Any, now: Any) -> KeyOut:
    return KeyOut(
        id=store.key_id_of(r["key_hash"]),
        prefix=r["prefix"],
        scopes=list(r["scopes"]),
        name=r["name"],
        created_by=r["created_by"],
        created_at=iso(r["created_at"]),
        status=store.key_status(r, now),
        interviewer_id=r["interviewer_id"] or "",
        expires_at=iso(r["expires_at"]) if r["expires_at"] else None,
        revoked_at=iso(r["revoked_at"]) if r["revoked_at"] else None,
        revoked_by=r["revoked_by"] or "",
    )


def _forget(request: Request, key_hash: bytes) -> None:
    """This replica stops trusting the key at once (others within INTERLOOP_GATEWAY_API_KEY_CACHE_SECONDS)."""
    request.app.state.verified_keys.pop(key_hash, None)


class ApiKeysController(Controller):
    path = "/v1/api-keys"
    tags = ["api-keys"]
    guards = [require_api_key]

    @allow("admin")
    @get("/", summary="The tenant's API keys (never the keys themselves)")
    async def list(self, request: Request) -> KeysOut:
        async with request.app.state.pool.acquire() as conn:
            rows = await store.list_keys(conn, principal_of(request).tenant_id)
        return KeysOut([key_out(r, utc_now()) for r in rows])

    @allow("admin")
    @post(
        "/", summary="Issue an API key (admin, recruiter or interviewer scopes): shown once", status_code=201
    )
    @idempotent
    async def issue(self, request: Request, data: KeyIn) -> IssuedKeyOut:
        principal = principal_of(request)
        if data.interviewer_id and set(data.scopes) != {"interviewer"}:
            raise problem(
                400,
                "a key bound to an interviewer has exactly the interviewer scope",
                extra={"errors": [{"field": "scopes", "detail": 'must be ["interviewer"]'}]},
            )
        async with request.app.state.pool.acquire() as conn, conn.transaction():
            key = await store.issue_key(
                conn,
                principal.tenant_id,
                sorted(set(data.scopes)),
                interviewer_id=data.interviewer_id or None,
                name=data.name,
                created_by=actor_of(principal),
            )
            row = await store.find_key(conn, principal.tenant_id, store.key_id_of(store.hash_key(key)))
        return IssuedKeyOut(key, key_out(row, utc_now()))

    @allow("admin")
    @post(
        "/{key_id:str}/rotate",
        summary="Rotate a key: a new one with the same scopes, the old one expiring after a grace period",
        status_code=201,
    )
    @idempotent
    async def rotate(self, request: Request, key_id: str, data: RotateIn | None = None) -> IssuedKeyOut:
        principal = principal_of(request)
        grace = data.grace_hours if data else 24
        async with request.app.state.pool.acquire() as conn, conn.transaction():
            old = await store.find_key(conn, principal.tenant_id, key_id)
            if old is None or old["revoked_at"]:
                raise problem(404, f"no active API key {key_id}")
            beyond = sorted(set(old["scopes"]) - {"admin", "recruiter", "interviewer"})
            if beyond:
                raise problem(403, f"a key with {', '.join(beyond)} scope is rotated by the operator (CLI)")
            key = await store.issue_key(
                conn,
                principal.tenant_id,
                list(old["scopes"]),
                interviewer_id=old["interviewer_id"],
                name=old["name"],
                created_by=actor_of(principal),
            )
            await store.expire_key(conn, principal.tenant_id, old["key_hash"], grace)
            row = await store.find_key(conn, principal.tenant_id, store.key_id_of(store.hash_key(key)))
        if grace == 0:
            _forget(request, old["key_hash"])
        return IssuedKeyOut(key, key_out(row, utc_now()))

    @allow("admin")
    @delete(
        "/{key_id:str}",
        summary="Revoke a key: it stops working (on every replica within the key cache TTL)",
        status_code=200,
    )
    @idempotent
    async def revoke(self, request: Request, key_id: str) -> KeyOut:
        principal = principal_of(request)
        if key_id == principal.key_id[: store.KEY_ID_CHARS]:
            raise problem(409, "this is the key making the request: rotate it, or revoke it with another key")
        async with request.app.state.pool.acquire() as conn:
            found = await store.find_key(conn, principal.tenant_id, key_id)
            row = (
                await store.revoke_key(conn, principal.tenant_id, found["key_hash"], actor_of(principal))
                if found
                else None
            )
        if row is None:
            raise problem(404, f"no active API key {key_id}")
        _forget(request, row["key_hash"])
        return key_out(row, utc_now())


CONTROLLERS = [ApiKeysController]
