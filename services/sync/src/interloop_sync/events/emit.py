"""Staging events in the outbox, inside the transaction that changed the state they announce."""

from __future__ import annotations

import asyncpg
from google.protobuf.message import Message
from interloop.events.v1 import ats_pb2
from interloop_common.events import new_event
from interloop_common.outbox import add_event

SOURCE = "//interloop/sync"


async def emit(
    conn: asyncpg.Connection,
    type_: str,
    tenant_id: str,
    subject: str,
    payload: Message,
    *,
    key: str | None = None,
) -> str:
    event = new_event(type=type_, source=SOURCE, tenant_id=tenant_id, subject=subject, payload=payload)
    await add_event(conn, event, key=key or tenant_id)
    return event.id


async def alert(
    conn: asyncpg.Connection,
    tenant_id: str,
    *,
    owner: str,
    summary: str,
    detail: str,
    connection_id: str = "",
    severity: str = "error",
    candidate_id: str = "",
) -> None:
    """notification.alert to the connection's named owner: failure is loud."""
    await emit(
        conn,
        "notification.alert",
        tenant_id,
        f"connection/{connection_id}",
        ats_pb2.Alert(
            owner=owner,
            severity=severity,
            summary=summary[:500],
            detail=detail[:4000],
            connection_id=connection_id,
            candidate_id=candidate_id,
        ),
    )
