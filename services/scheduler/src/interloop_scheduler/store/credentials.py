"""The scheduler's sealed values for key rotation: each interviewer's calendar credential, kept in the
``calendar`` jsonb under "credential", and each push channel's secret (``calendar_channels.secret``)
(``interloop_common.keyring.SealedColumns``)."""

from __future__ import annotations

import asyncpg

CHANNEL = "channel:"


class CalendarCredentials:
    """Labels are ``<tenant>/<interviewer id>`` (``channel:`` before it for a push channel's secret); runs
    in the rotation's system transaction."""

    async def sealed(self, conn: asyncpg.Connection) -> list[tuple[str, str]]:
        rows = await conn.fetch(
            """SELECT tenant_id, id, calendar->>'credential' AS credential FROM interviewers
               WHERE coalesce(calendar->>'credential', '') <> '' ORDER BY tenant_id, id"""
        )
        channels = await conn.fetch(
            """SELECT tenant_id, interviewer_id, secret FROM calendar_channels
               ORDER BY tenant_id, interviewer_id"""
        )
        return [(f"{r['tenant_id']}/{r['id']}", r["credential"]) for r in rows] + [
            (f"{CHANNEL}{r['tenant_id']}/{r['interviewer_id']}", r["secret"]) for r in channels
        ]

    async def reseal(self, conn: asyncpg.Connection, label: str, value: str) -> None:
        if label.startswith(CHANNEL):
            tenant_id, _, interviewer_id = label.removeprefix(CHANNEL).partition("/")
            await conn.execute(
                "UPDATE calendar_channels SET secret = $3 WHERE tenant_id = $1 AND interviewer_id = $2",
                tenant_id,
                interviewer_id,
                value,
            )
            return
        tenant_id, _, interviewer_id = label.partition("/")  # tenant ids hold no "/"
        await conn.execute(
            """UPDATE interviewers SET calendar = jsonb_set(calendar, '{credential}', to_jsonb($3::text))
               WHERE tenant_id = $1 AND id = $2""",
            tenant_id,
            interviewer_id,
            value,
        )
