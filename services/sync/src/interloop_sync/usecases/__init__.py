"""The sync service's use cases, one module per aggregate: each is one tenant transaction (store + domain +
the events it stages in the outbox). rpc/ and events/ only unpack their input and call them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from interloop_common.outbox import stage_alert

if TYPE_CHECKING:
    import asyncpg

    from interloop_sync.store.connections import Connection

SOURCE = "//interloop/sync"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list: ``more`` says another follows (it continues after the last item)."""

    items: list[T]
    more: bool


def page_of(rows: list[T], limit: int) -> Page[T]:
    """``rows`` read with one row more than ``limit``: the page and whether another follows."""
    return Page(rows[:limit], len(rows) > limit)


async def alert_owner(
    conn: asyncpg.Connection, c: Connection, summary: str, detail: str, *, candidate_id: str = ""
) -> None:
    """A ``notification.alert`` to the owner of connection ``c``, staged in the caller's transaction."""
    await stage_alert(
        conn,
        source=SOURCE,
        tenant_id=c.tenant_id,
        subject=f"connection/{c.id}",
        owner=c.owner,
        connection_id=c.id,
        summary=summary,
        detail=detail,
        candidate_id=candidate_id,
    )
