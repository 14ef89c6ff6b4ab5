"""The scheduler's sealed values for key rotation: each interviewer's calendar credential, kept in the
``calendar`` jsonb under "credential" (``interloop_common.keyring.SealedColumns``)."""

from __future__ import annotations

import asyncpg


class CalendarCredentials:
    """Labels are ``<tenant>/<interviewer id>``; runs in the rotation's system transaction."""

    async def sealed(self, conn: asyncpg.Connection) -> list[tuple[str, str]]:
        rows = await conn.fetch(
            """SELECT tenant_id, id, calendar->>'credential' AS credential FROM interviewers
               WHERE coalesce(calendar->>'credential', '') <> '' ORDER BY tenant_id, id"""
        )
        return [(f"{r['tenant_id']}/{r['id']}", r["credential"]) for r in rows]

    async def reseal(self, conn: asyncpg.Connection, label: str, value: str) -> None:
        tenant_id, _, interviewer_id = label.partition("/")  # tenant ids hold no "/"
        await conn.execute(
            """UPDATE interviewers SET calendar = jsonb_set(calendar, '{credential}', to_jsonb($3::text))
               WHERE tenant_id = $1 AND id = $2""",
            tenant_id,
            interviewer_id,
            value,
        )
