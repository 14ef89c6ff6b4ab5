"""The tamper-evident audit trail: who did what, when, from where and with what outcome, one hash chain
per tenant in the ``audit_log`` table.

Each entry's ``hash`` is SHA-256 over a length-prefixed encoding of the previous entry's hash and every
field of the entry (tenant and position included), and ``id`` is the entry's position in its tenant's
chain (1, 2, 3, ...). So editing any field, deleting an entry, reordering entries or moving one to another
tenant breaks the chain at that entry, and ``verify`` names the first break. What a chain alone cannot
show: entries cut off the end, or a rewrite that recomputes every later hash; that takes a copy of the
head hash kept outside the database.

Row-level security applies: call ``append`` inside ``db.tenant_tx`` for the entry's tenant (or
``db.system_tx``), and ``verify`` across tenants inside ``db.system_tx``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from enum import StrEnum

import asyncpg

GENESIS = bytes(32)  # the prev_hash of a tenant's first entry

# Advisory locks with two int4 keys live apart from the one-bigint keys (the outbox leader's lock):
# the class says "audit chain", the second key is the tenant.
_LOCK_CLASS = 0x41554454  # "AUDT"
_ENCODING = b"interloop-audit-v1"  # a new encoding gets a new name, so old hashes stay checkable


class Door(StrEnum):
    """Where a request came in."""

    REST = "rest"
    PARTNER_GRPC = "partner-grpc"
    WEBHOOK = "webhook"
    CLI = "cli"


@dataclass(frozen=True)
class AuditEntry:
    tenant_id: str
    at: datetime
    actor: str  # API key prefix, partner id or "system"
    action: str
    target: str  # e.g. "candidate/123"
    door: str  # a Door
    remote: str  # the peer address as the door saw it, "" when unknown
    status: int  # the outcome: HTTP status, or the gRPC status code on the partner door
    request_id: str
    # set by `chain`: the position in the tenant's chain (from 1), the previous entry's hash, this one's
    id: int = 0
    prev_hash: bytes = field(default=b"", repr=False)
    hash: bytes = field(default=b"", repr=False)


_COLUMNS = ", ".join(f.name for f in fields(AuditEntry))


def digest(entry: AuditEntry) -> bytes:
    """SHA-256 of the entry's previous hash and every field but its own hash, each length-prefixed."""
    at = entry.at.astimezone(UTC).isoformat(timespec="microseconds")
    parts = [
        _ENCODING,
        entry.prev_hash,
        entry.tenant_id.encode(),
        str(entry.id).encode(),
        at.encode(),
        entry.actor.encode(),
        entry.action.encode(),
        entry.target.encode(),
        entry.door.encode(),
        entry.remote.encode(),
        str(entry.status).encode(),
        entry.request_id.encode(),
    ]
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.digest()


def chain(head: AuditEntry | None, entry: AuditEntry) -> AuditEntry:
    """`entry` placed after `head` (None: as its tenant's first): its id, prev_hash and hash filled in."""
    if not entry.tenant_id:
        raise ValueError("tenant_id is required")
    if entry.door not in set(Door):
        raise ValueError(f"door {entry.door!r} is not one of {', '.join(d.value for d in Door)}")
    if entry.at.tzinfo is None:
        raise ValueError(f"at {entry.at.isoformat()} has no zone; pass an aware datetime (UTC)")
    if head is not None and head.tenant_id != entry.tenant_id:
        raise ValueError(f"head belongs to tenant {head.tenant_id!r}, not {entry.tenant_id!r}")
    placed = replace(
        entry,
        id=1 if head is None else head.id + 1,
        at=entry.at.astimezone(UTC),
        door=str(entry.door),
        prev_hash=GENESIS if head is None else head.hash,
        hash=b"",
    )
    return replace(placed, hash=digest(placed))


def _tenant_lock_key(tenant_id: str) -> int:
    return int.from_bytes(hashlib.sha256(tenant_id.encode()).digest()[:4], "big", signed=True)


async def append(
    conn: asyncpg.Connection,
    *,
    tenant_id: str,
    actor: str,
    action: str,
    target: str,
    door: Door | str,
    remote: str,
    status: int,
    request_id: str,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry to the tenant's chain and return it; `at` defaults to the database's clock.

    Appends of one tenant are serialised by a transaction-scoped advisory lock, held until the
    surrounding transaction ends (append opens one, or a savepoint inside the caller's), so concurrent
    appends from any number of connections form one chain. Use READ COMMITTED (the default): the head is
    read after the lock is granted, which a REPEATABLE READ snapshot taken earlier would not see (the
    primary key then refuses the duplicate position instead of forking the chain)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", _LOCK_CLASS, _tenant_lock_key(tenant_id))
        # a new statement after the lock: under READ COMMITTED it sees the entry the last holder committed
        head = await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM audit_log WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1",  # noqa: S608
            tenant_id,
        )
        if at is None:
            at = await conn.fetchval("SELECT clock_timestamp()")
        entry = chain(
            _entry(head) if head is not None else None,
            AuditEntry(
                tenant_id=tenant_id,
                at=at,
                actor=actor,
                action=action,
                target=target,
                door=door,
                remote=remote,
                status=status,
                request_id=request_id,
            ),
        )
        await conn.execute(
            f"INSERT INTO audit_log ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",  # noqa: S608
            *(getattr(entry, f.name) for f in fields(AuditEntry)),
        )
    return entry


class Check(StrEnum):
    """Which check an entry failed."""

    GAP = "gap"  # the position is not the one after the previous entry's: entries deleted or reordered
    PREV_LINK = "prev link mismatch"  # prev_hash is not the previous entry's hash
    HASH = "hash mismatch"  # the stored hash is not the hash of the entry's fields


@dataclass(frozen=True)
class BrokenLink:
    tenant_id: str
    id: int
    check: Check
    detail: str

    def __str__(self) -> str:
        return f"tenant {self.tenant_id!r} entry {self.id}: {self.check} ({self.detail})"


@dataclass(frozen=True)
class VerifyResult:
    entries: int  # entries that checked out before the first break (all of them when intact)
    tenants: int
    broken: BrokenLink | None = None

    @property
    def intact(self) -> bool:
        return self.broken is None


class _Walk:
    """Checks entries ordered by (tenant_id, id), one at a time, until the first break."""

    def __init__(self) -> None:
        self.entries = 0
        self.tenants = 0
        self.broken: BrokenLink | None = None
        self._tenant: str | None = None
        self._next_id = 1
        self._prev = GENESIS

    def step(self, e: AuditEntry) -> bool:
        """True while the chain holds."""
        if e.tenant_id != self._tenant:
            self._tenant, self._next_id, self._prev = e.tenant_id, 1, GENESIS
            self.tenants += 1
        if e.id != self._next_id:
            self._break(e, Check.GAP, f"expected entry {self._next_id}, found entry {e.id}")
        elif e.prev_hash != self._prev:
            detail = f"prev_hash {_short(e.prev_hash)}, previous hash {_short(self._prev)}"
            self._break(e, Check.PREV_LINK, detail)
        elif (computed := digest(e)) != e.hash:
            self._break(e, Check.HASH, f"stored {_short(e.hash)}, computed {_short(computed)}")
        else:
            self.entries += 1
            self._next_id += 1
            self._prev = e.hash
        return self.broken is None

    def _break(self, e: AuditEntry, check: Check, detail: str) -> None:
        self.broken = BrokenLink(e.tenant_id, e.id, check, detail)

    def result(self) -> VerifyResult:
        return VerifyResult(self.entries, self.tenants, self.broken)


def _short(h: bytes) -> str:
    return h.hex()[:12] or "(empty)"


def verify_entries(entries: Iterable[AuditEntry]) -> VerifyResult:
    """Check chains given ordered by (tenant_id, id); stops at the first break."""
    walk = _Walk()
    for e in entries:
        if not walk.step(e):
            break
    return walk.result()


async def verify(conn: asyncpg.Connection, tenant_id: str | None = None) -> VerifyResult:
    """Check the chain of one tenant, or of every tenant the connection may see (``db.system_tx``: all),
    in one snapshot; names the first broken link."""
    if tenant_id == "":
        raise ValueError("tenant_id must be a tenant id or None (every tenant)")
    where, args = ("WHERE tenant_id = $1", [tenant_id]) if tenant_id is not None else ("", [])
    walk = _Walk()
    async with conn.transaction():  # a cursor needs one; one statement reads one snapshot
        query = f"SELECT {_COLUMNS} FROM audit_log {where} ORDER BY tenant_id, id"  # noqa: S608
        async for row in conn.cursor(query, *args, prefetch=1000):
            if not walk.step(_entry(row)):
                break
    return walk.result()


def _entry(row: asyncpg.Record) -> AuditEntry:
    return AuditEntry(**dict(row.items()))
