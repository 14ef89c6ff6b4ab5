"""Automation rules, email templates, due actions and the communications log."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from interloop_common.retention import Sweep

from interloop_sync.domain.automations import EmailTemplate, PlannedAction, Rule, parse_rule, rule_from_json
from interloop_sync.domain.jsonable import dumps

# Kinds of action that only carry a call for a record kept elsewhere (hris_syncs, writebacks).
HIRE, WRITEBACK = "hris_hire", "ats_writeback"
# Their finished rows are swept after a month: the record stays in its own table. Actions that sent
# something stay (the communications log names each message's action).
FINISHED_CALLS = Sweep(
    "automation_actions",
    "done_at",
    timedelta(days=30),
    f"status = 'done' AND kind IN ('{HIRE}', '{WRITEBACK}')",
)


def rule_of(source: dict[str, Any], rule_id: str, templates: set[str] | None = None) -> Rule:
    if "dsl" in source:
        return parse_rule(source["dsl"], rule_id=rule_id, templates=templates)
    return rule_from_json({**source["json"], "id": rule_id}, templates=templates)


async def insert_rule(
    conn: asyncpg.Connection, tenant_id: str, rule: Rule, source: dict[str, Any]
) -> asyncpg.Record:
    return await conn.fetchrow(
        """INSERT INTO automation_rules (tenant_id, id, source, on_event, action, enabled)
           VALUES ($1, $2, $3::jsonb, $4, $5, $6)
           ON CONFLICT (tenant_id, id) DO UPDATE SET source = EXCLUDED.source, on_event = EXCLUDED.on_event,
               action = EXCLUDED.action, enabled = EXCLUDED.enabled
           RETURNING id, source, on_event, action, enabled, created_at""",
        tenant_id,
        rule.id,
        json.dumps(source),
        rule.on,
        rule.action.kind,
        rule.enabled,
    )


async def list_rules(
    conn: asyncpg.Connection, tenant_id: str, *, after: str = "", limit: int = 500
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, source, on_event, action, enabled, created_at FROM automation_rules
           WHERE tenant_id = $1 AND ($2 = '' OR id > $2) ORDER BY id LIMIT $3""",
        tenant_id,
        after,
        limit,
    )


async def enabled_rules(conn: asyncpg.Connection, tenant_id: str) -> list[Rule]:
    rows = await conn.fetch(
        "SELECT id, source FROM automation_rules WHERE tenant_id = $1 AND enabled", tenant_id
    )
    return [rule_of(json.loads(r["source"]), r["id"]) for r in rows]


async def put_template(conn: asyncpg.Connection, tenant_id: str, name: str, t: EmailTemplate) -> None:
    await conn.execute(
        """INSERT INTO email_templates (tenant_id, name, subject, body, html) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (tenant_id, name) DO UPDATE SET subject = EXCLUDED.subject, body = EXCLUDED.body,
               html = EXCLUDED.html, updated_at = now()""",
        tenant_id,
        name,
        t.subject,
        t.body,
        t.html,
    )


async def templates(conn: asyncpg.Connection, tenant_id: str) -> dict[str, EmailTemplate]:
    rows = await conn.fetch(
        "SELECT name, subject, body, html FROM email_templates WHERE tenant_id = $1", tenant_id
    )
    return {r["name"]: EmailTemplate(r["subject"], r["body"], r["html"]) for r in rows}


async def add_action(
    conn: asyncpg.Connection,
    tenant_id: str,
    connection_id: str | None,
    p: PlannedAction,
    context: dict[str, Any],
    event_at: datetime,
    *,
    key: str | None = None,
    due_at: datetime | None = None,
    kind: str | None = None,
) -> bool:
    """Store a due action once per idempotency key (one rule, one outcome)."""
    args = dict(p.action.args)
    if p.follow_up_at is not None:
        args["follow_up_at"] = p.follow_up_at
    return await _insert(
        conn,
        tenant_id,
        key or p.idempotency_key,
        p.rule_id,
        uuid.UUID(connection_id) if connection_id else None,
        kind or p.action.kind,
        dumps(args),
        dumps(context),
        event_at,
        due_at or p.due_at,
    )


async def add_system_action(
    conn: asyncpg.Connection,
    tenant_id: str,
    *,
    key: str,
    rule_id: str,
    kind: str,
    context: dict[str, Any],
    event_at: datetime,
    due_at: datetime,
    connection_id: str | None = None,
    args: dict[str, Any] | None = None,
) -> bool:
    """A due action that no tenant rule planned (the platform's own, e.g. sending a scheduling link); stored
    once per idempotency key, so the same request never becomes two emails."""
    return await _insert(
        conn,
        tenant_id,
        key,
        rule_id,
        uuid.UUID(connection_id) if connection_id else None,
        kind,
        dumps(args or {}),
        dumps(context),
        event_at,
        due_at,
    )


async def _insert(
    conn: asyncpg.Connection,
    tenant_id: str,
    key: str,
    rule_id: str,
    connection_id: uuid.UUID | None,
    kind: str,
    args: str,
    context: str,
    event_at: datetime,
    due_at: datetime,
) -> bool:
    """One action row, once per idempotency key, and none about a candidate erased here (the tombstone:
    an event or a reminder still in flight when the erasure landed plans nothing). True when stored."""
    return bool(
        await conn.fetchval(
            """INSERT INTO automation_actions (tenant_id, idempotency_key, rule_id, connection_id, kind,
                   args, context, event_at, due_at)
               SELECT $1::text, $2::text, $3::text, $4::uuid, $5::text, $6::jsonb, $7::jsonb,
                   $8::timestamptz, $9::timestamptz
               WHERE NOT EXISTS (SELECT 1 FROM erased_candidates e
                                 WHERE e.tenant_id = $1 AND e.candidate_id = $7::jsonb->>'candidate_id')
           ON CONFLICT DO NOTHING RETURNING true""",
            tenant_id,
            key,
            rule_id,
            connection_id,
            kind,
            args,
            context,
            event_at,
            due_at,
        )
    )


async def cancel_erased(conn: asyncpg.Connection) -> int:
    """System scope: pending actions about a candidate erased since they were planned (a transaction that
    raced the erasure) are cancelled, and lose the contact fields, before anything is claimed."""
    status = await conn.execute(
        """UPDATE automation_actions a SET status = 'cancelled', last_error = 'candidate erased',
               context = a.context - $1::text[]
           FROM erased_candidates e
           WHERE a.status = 'pending' AND e.tenant_id = a.tenant_id
             AND e.candidate_id = a.context->>'candidate_id'""",
        list(_PII_CONTEXT),
    )
    return int(status.split()[-1])


async def cancel_for_application(
    conn: asyncpg.Connection, tenant_id: str, application_id: str, *, keep_on: tuple[str, ...], why: str
) -> int:
    """The application was closed in the ATS: its pending actions (rule actions, scheduling-link emails,
    assessment reminders) are cancelled, except those of rules that fire on ``keep_on`` (the closure
    itself: a rejection email is meant to go). Actions that carry no application (hires, write-backs,
    alerts) are not touched."""
    status = await conn.execute(
        """UPDATE automation_actions a SET status = 'cancelled', last_error = $4, done_at = now()
           WHERE a.tenant_id = $1 AND a.context->>'application_id' = $2 AND a.status = 'pending'
             AND NOT EXISTS (SELECT 1 FROM automation_rules r
                             WHERE r.tenant_id = $1 AND r.id = a.rule_id AND r.on_event = ANY($3::text[]))""",
        tenant_id,
        application_id,
        list(keep_on),
        why,
    )
    return int(status.split()[-1])


async def claim_due(
    conn: asyncpg.Connection, now: datetime, lease_until: datetime, limit: int = 50
) -> list[asyncpg.Record]:
    """System scope: due pending actions no live lease holds, leased to this worker until ``lease_until``
    (SKIP LOCKED lets replicas share the work; the lease, not a row lock, keeps them off each other while
    the caller calls vendors with no transaction open); never one about an erased candidate (planned in a
    transaction that raced the erasure: the erasure cancelled what it could see, this skips what it could
    not)."""
    return await conn.fetch(
        """UPDATE automation_actions a SET claimed_until = $3
           FROM (SELECT tenant_id, idempotency_key FROM automation_actions d
                 WHERE status = 'pending' AND due_at <= $1
                   AND (claimed_until IS NULL OR claimed_until <= $1)
                   AND NOT EXISTS (SELECT 1 FROM erased_candidates e
                                   WHERE e.tenant_id = d.tenant_id
                                     AND e.candidate_id = d.context->>'candidate_id')
                 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED) due
           WHERE a.tenant_id = due.tenant_id AND a.idempotency_key = due.idempotency_key
           RETURNING a.tenant_id, a.idempotency_key, a.rule_id, a.connection_id, a.kind, a.args, a.context,
               a.event_at, a.due_at, a.attempts""",
        now,
        limit,
        lease_until,
    )


async def extend_lease(conn: asyncpg.Connection, tenant_id: str, key: str, until: datetime) -> bool:
    """A running action's lease moved on (its call is still in progress); False when it is no longer
    leased (finished meanwhile)."""
    return bool(
        await conn.fetchval(
            """UPDATE automation_actions SET claimed_until = $3
               WHERE tenant_id = $1 AND idempotency_key = $2 AND status = 'pending'
                 AND claimed_until IS NOT NULL RETURNING true""",
            tenant_id,
            key,
            until,
        )
    )


async def finish(
    conn: asyncpg.Connection,
    tenant_id: str,
    key: str,
    status: str,
    error: str | None = None,
    *,
    forget: tuple[str, ...] = (),
) -> None:
    """The action's outcome; ``forget`` drops context fields it no longer needs (a hire's source document)."""
    await conn.execute(
        """UPDATE automation_actions SET status = $3, last_error = $4, attempts = attempts + 1,
               claimed_until = NULL, context = context - $5::text[],
               done_at = CASE WHEN $3 = 'pending' THEN NULL ELSE now() END
           WHERE tenant_id = $1 AND idempotency_key = $2""",
        tenant_id,
        key,
        status,
        error,
        list(forget),
    )


async def retry_later(
    conn: asyncpg.Connection, tenant_id: str, key: str, due_at: datetime, error: str, *, count: bool = True
) -> int:
    """Due again at ``due_at``, the lease released; ``count`` says the failure counts as an attempt (a
    database or pool hiccup does not). Returns the attempts so far."""
    return int(
        await conn.fetchval(
            """UPDATE automation_actions SET attempts = attempts + $5::int, last_error = $4, due_at = $3,
                   claimed_until = NULL
               WHERE tenant_id = $1 AND idempotency_key = $2 RETURNING attempts""",
            tenant_id,
            key,
            due_at,
            error,
            1 if count else 0,
        )
        or 0
    )


async def log_communication(
    conn: asyncpg.Connection,
    tenant_id: str,
    key: str,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
    status: str,
    event_at: datetime,
) -> bool:
    return bool(
        await conn.fetchval(
            # sent_at is the moment it went out (the worker sends a batch in one transaction, so now()
            # would stamp the whole batch with the batch's start).
            """INSERT INTO communications (tenant_id, id, idempotency_key, channel, recipient, subject,
                   body, status, event_at, sent_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, clock_timestamp())
           ON CONFLICT DO NOTHING RETURNING true""",
            tenant_id,
            uuid.uuid4(),
            key,
            channel,
            recipient,
            subject,
            body,
            status,
            event_at,
        )
    )


async def add_reminder(
    conn: asyncpg.Connection,
    tenant_id: str,
    key: str,
    *,
    rule_id: str,
    connection_id: uuid.UUID | None,
    args: dict[str, Any],
    context: dict[str, Any],
    event_at: datetime,
    due_at: datetime,
) -> None:
    """The follow-up of a dispatched assessment (`<key>:reminder`), stored once."""
    await _insert(
        conn,
        tenant_id,
        f"{key}:reminder",
        rule_id,
        connection_id,
        "assessment_reminder",
        json.dumps(args),
        json.dumps(context),
        event_at,
        due_at,
    )


async def email_sent(conn: asyncpg.Connection, tenant_id: str, key: str) -> bool:
    """Whether the email of this action is in the communications log already (sent before a crash)."""
    return bool(
        await conn.fetchval(
            """SELECT 1 FROM communications WHERE tenant_id = $1 AND idempotency_key = $2
               AND channel = 'email'""",
            tenant_id,
            key,
        )
    )


# Context fields of an action that identify or reach the candidate (the ICS names them as attendee).
_PII_CONTEXT = (
    "candidate_email",
    "candidate_name",
    "recipient",
    "name",
    "ics",
    "email",
    "phone",
    "detail",
    "manage_url",
)


async def redact_candidate(conn: asyncpg.Connection, tenant_id: str, candidate_id: str) -> int:
    """Erasure: what was sent to (or about) the candidate keeps its row, for the audit trail of what was sent
    when, but loses the address, the subject and the body; planned actions lose the contact fields."""
    await conn.execute(
        """UPDATE communications c SET recipient = '', subject = '', body = ''
           FROM automation_actions a
           WHERE a.tenant_id = $1 AND a.context->>'candidate_id' = $2
             AND c.tenant_id = $1 AND c.idempotency_key = a.idempotency_key""",
        tenant_id,
        candidate_id,
    )
    # What was still to be sent about them is not sent: cancelled, not failed later for want of an address.
    await conn.execute(
        """UPDATE automation_actions SET status = 'cancelled', last_error = 'candidate erased'
           WHERE tenant_id = $1 AND context->>'candidate_id' = $2 AND status = 'pending'""",
        tenant_id,
        candidate_id,
    )
    status = await conn.execute(
        """UPDATE automation_actions SET context = context - $3::text[]
           WHERE tenant_id = $1 AND context->>'candidate_id' = $2""",
        tenant_id,
        candidate_id,
        list(_PII_CONTEXT),
    )
    return int(status.split()[-1])


async def list_communications(
    conn: asyncpg.Connection,
    tenant_id: str,
    *,
    candidate_id: str = "",
    recipient: str = "",
    before: tuple[datetime, uuid.UUID] | None = None,
    limit: int = 50,
) -> list[asyncpg.Record]:
    """Newest first, with the action that sent each (kind, rule, candidate, booking)."""
    return await conn.fetch(
        """SELECT c.id, c.channel, c.recipient, c.subject, c.status, c.event_at, c.sent_at,
                  coalesce(a.kind, '') AS kind, coalesce(a.rule_id, '') AS rule_id,
                  coalesce(a.context->>'candidate_id', '') AS candidate_id,
                  coalesce(a.context->>'booking_id', '') AS booking_id
           FROM communications c
           LEFT JOIN automation_actions a
             ON a.tenant_id = c.tenant_id AND a.idempotency_key = c.idempotency_key
           WHERE c.tenant_id = $1
             AND ($2 = '' OR a.context->>'candidate_id' = $2)
             AND ($3 = '' OR lower(c.recipient) = lower($3))
             AND ($4::timestamptz IS NULL OR (c.sent_at, c.id) < ($4, $5::uuid))
           ORDER BY c.sent_at DESC, c.id DESC LIMIT $6""",
        tenant_id,
        candidate_id,
        recipient,
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )
