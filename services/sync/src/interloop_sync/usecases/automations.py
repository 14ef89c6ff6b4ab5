"""The automation worker: executes due actions (email over SMTP, webhook calls, scheduling requests,
assessment links with a reminder, background checks, delayed rejections, erasures forwarded to the ATS, ATS
write-backs and the HRIS hand-off). Each action row runs once; its idempotency key is also the
communications-log key, so a retry after a crash never sends twice what was logged as sent.

Claim, commit, call, record: a round leases due actions (``claimed_until``) in one short transaction and
commits; each action then reads what it needs in a short transaction, calls out (SMTP, a webhook, a vendor)
with no connection held, and records its outcome in another. A worker that dies mid-call leaves a lease
that expires. A vendor that is down or throttling is retried after a backoff (a Retry-After sets the due
time; nobody sleeps in a transaction), without limit for the write-back and the hand-off, whose owner is
alerted once along the way; only a refusal (or what keeps failing for another reason) fails the action and
alerts."""

from __future__ import annotations

import asyncio
import email.policy
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import asyncpg
from interloop.events.v1 import ats_pb2
from interloop_common import vendor_http
from interloop_common.clock import utc_now
from interloop_common.db import DATABASE_AWAY, PoolExhausted, system_tx, tenant_tx
from interloop_common.outbox import stage, stage_alert
from interloop_common.periodic import Wakeup, every
from interloop_common.retry import Permanent

from interloop_sync.domain.automations import EmailTemplate, EmailTemplates, RenderedEmail
from interloop_sync.store import automations as store
from interloop_sync.store import connections, mirror
from interloop_sync.usecases import SOURCE, erasures, hris, metrics, writeback
from interloop_sync.usecases.connections import token_renewer
from interloop_sync.usecases.context import WEBHOOK, SyncContext
from interloop_sync.vendors import registry
from interloop_sync.vendors._http import reason, send
from interloop_sync.vendors.ats import ERASE_WRITE, Skipped

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
EMAIL_KINDS = (
    "send_email",
    "dispatch_assessment",
    "assessment_reminder",
    "send_scheduling_link",
    "send_alert",
    "send_interview_email",
)

DEFAULT_ASSESSMENT = EmailTemplate(
    "Your assessment", "Hello {{ candidate_name }},\n\nplease complete your assessment: {{ link }}\n"
)
# The tenant overrides it by storing an email template named "scheduling_link" (same variables).
DEFAULT_SCHEDULING_LINK = EmailTemplate(
    "Choose a time for your interview",
    "Hello {{ candidate_name or 'there' }},\n\n"
    "please choose a time for your {{ round ~ ' ' if round else '' }}interview: {{ link }}\n"
    "{% if expires_at %}\nThe link is valid until {{ expires_at }}.\n{% endif %}",
)
# An alert to its owner; the tenant overrides it with a template named "alert".
DEFAULT_ALERT = EmailTemplate(
    "[Interloop {{ severity }}] {{ summary }}",
    "{{ summary }}\n\n{{ detail }}\n\n"
    "tenant: {{ tenant_id }}\nraised by: {{ source }} ({{ subject }})\nat: {{ raised_at }}\n\n"
    "Dead letters are replayed once the cause is fixed:\n"
    "  python -m interloop_<service> replay-dead-letters --tenant {{ tenant_id }}\n",
)
# Interview messages; a tenant overrides each by storing a template of the same name (same variables:
# name, role, candidate_name, interviewers, round, start, end, end_time, previous_start, reason, lead,
# manage_url — the candidate's reschedule/cancel page, empty for everyone else).
_WHO = "{{ 'your ' if role == 'candidate' else candidate_name ~ ' — ' if candidate_name else '' }}"
DEFAULT_INTERVIEW = {
    "interview_scheduled": EmailTemplate(
        "Interview confirmed: " + _WHO + "{{ round or 'interview' }}, {{ start }}",
        "Hello {{ name or 'there' }},\n\n"
        "{{ 'Your' if role == 'candidate' else 'The' }} {{ round ~ ' ' if round else '' }}interview"
        "{{ ' with ' ~ candidate_name if role != 'candidate' and candidate_name else '' }} is booked for "
        "{{ start }} to {{ end_time }}.\n"
        "{% if interviewers %}Interviewers: {{ interviewers }}\n{% endif %}"
        "\nThe calendar invite is attached.\n"
        "{% if manage_url %}\nNeed another time? Reschedule or cancel here: {{ manage_url }}\n{% endif %}",
    ),
    "interview_rescheduled": EmailTemplate(
        "Interview moved: " + _WHO + "{{ round or 'interview' }}, now {{ start }}",
        "Hello {{ name or 'there' }},\n\n"
        "the {{ round ~ ' ' if round else '' }}interview"
        "{{ ' with ' ~ candidate_name if role != 'candidate' and candidate_name else '' }}"
        "{{ ' planned for ' ~ previous_start if previous_start else '' }} has moved to "
        "{{ start }} to {{ end_time }}.\n"
        "\nThe updated calendar invite is attached; it replaces the earlier one.\n"
        "{% if manage_url %}\nNeed another time? Reschedule or cancel here: {{ manage_url }}\n{% endif %}",
    ),
    "interview_cancelled": EmailTemplate(
        "Interview cancelled: " + _WHO + "{{ round or 'interview' }}, {{ start }}",
        "Hello {{ name or 'there' }},\n\n"
        "the {{ round ~ ' ' if round else '' }}interview"
        "{{ ' with ' ~ candidate_name if role != 'candidate' and candidate_name else '' }} on {{ start }} "
        "is cancelled.{{ ' Reason: ' ~ reason if reason else '' }}\n"
        "\nThe attached cancellation removes it from your calendar.\n",
    ),
    "interview_reminder": EmailTemplate(
        "Reminder: your {{ round or 'interview' }} on {{ start }}",
        "Hello {{ name or 'there' }},\n\n"
        "a reminder of your {{ round ~ ' ' if round else '' }}interview on {{ start }} to {{ end_time }}.\n"
        "{% if interviewers %}You will meet: {{ interviewers }}\n{% endif %}",
    ),
    "scorecard_overdue": EmailTemplate(
        "Scorecard overdue: {{ round or 'interview' }} that ended {{ interview_end }}",
        "Hello {{ name or 'there' }},\n\n"
        "your scorecard for the {{ round ~ ' ' if round else '' }}interview that ended {{ interview_end }} "
        "was due {{ due }}.\nThe hiring team is waiting for it: please submit it in Interloop.\n"
        "{{ '\n(reminder ' ~ nudge ~ ')\n' if nudge != '1' else '' }}",
    ),
}
DEFAULT_REMINDER = EmailTemplate(
    "Reminder: your assessment",
    "Hello {{ candidate_name }},\n\na reminder to complete your assessment: {{ link }}\n",
)


MAX_WORKER_BACKOFF_S = 30.0
WAKEUP_CHANNEL = "automation_due"


async def worker(ctx: SyncContext) -> None:
    """Due actions as soon as a slot is free; else at the next poll interval, or at once when an action
    that is already due commits (migration 0005's NOTIFY) or a running one finishes. Rounds do not wait
    for each other: one slow vendor call (an HRIS that stalls until its time cap) holds its own slot and
    its lane, never the next round, so other tenants' emails and hand-offs leave meanwhile."""
    wakeup = Wakeup(ctx.pool, WAKEUP_CHANNEL)
    runner = Runner(ctx, wake=wakeup.wake)
    try:
        await every(
            ctx.settings.automation_poll_seconds,
            "automations",
            wakeup.round(runner.round),
            drain=True,
            max_backoff=MAX_WORKER_BACKOFF_S,
            sleep=wakeup.nap,
        )
    finally:
        await runner.close()
        await wakeup.close()


class Runner:
    """The worker's rounds: each claims at most as many due actions as there are free slots (so nothing
    it leased waits long in memory while its lease runs) and runs them in the background, in order within
    a lane (one application's hire, one ATS record's writes, one candidate's mail) across rounds too."""

    def __init__(self, ctx: SyncContext, *, wake: Callable[[], None]) -> None:
        self._ctx = ctx
        self._wake = wake
        self._free = ctx.settings.automation_concurrency
        self._lanes: dict[tuple[str, str], asyncio.Lock] = {}
        self._users: dict[tuple[str, str], int] = {}  # tasks holding or waiting for each lane's lock
        self._tasks: set[asyncio.Task[None]] = set()

    async def round(self) -> int:
        if self._free <= 0:
            return 0  # every slot busy: a finishing action wakes the next round
        now = utc_now()
        lease_until = now + timedelta(seconds=self._ctx.settings.automation_lease_seconds)
        async with system_tx(self._ctx.pool) as conn:
            await store.cancel_erased(conn)
            rows = await store.claim_due(
                conn, now, lease_until, limit=min(self._ctx.settings.automation_batch, self._free)
            )
        self._free -= len(rows)
        lanes: dict[tuple[str, str], list[asyncpg.Record]] = {}
        for row in rows:
            lanes.setdefault(_lane(row), []).append(row)
        for lane, queued in lanes.items():
            task = asyncio.create_task(self._run_lane(lane, queued))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(rows)

    async def _run_lane(self, lane: tuple[str, str], rows: list[asyncpg.Record]) -> None:
        lock = self._lanes.setdefault(lane, asyncio.Lock())
        self._users[lane] = self._users.get(lane, 0) + 1
        try:
            async with lock:
                for row in rows:
                    try:
                        await _execute(self._ctx, row)
                    except Exception:  # noqa: BLE001 - the lease expires and the action comes again
                        log.exception("automation %s (%s) not recorded", row["idempotency_key"], row["kind"])
                    finally:
                        self._free += 1
                        self._wake()
        finally:
            self._users[lane] -= 1
            if not self._users[lane]:  # nobody holds or waits for it: forget the lane
                del self._users[lane], self._lanes[lane]

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


# RFC 5322 lines may run to 998 characters. CPython's folding at 78 moves a whole subject that ends in a
# parenthesised part ("… 19:03 (America/Sao_Paulo)") onto a continuation line, and readers then show it
# with a leading space; headers are not folded short here.
MAIL_POLICY = email.policy.SMTP.clone(max_line_length=998)


def build_message(
    sender: str, recipient: str, rendered: RenderedEmail, key: str, context: dict[str, Any]
) -> EmailMessage:
    """The email as sent: plain or HTML body, and the invite (ICS) attached when there is one."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = rendered.subject
    message["Message-ID"] = f"<{key.replace(':', '.')}@interloop.local>"
    message.set_content(rendered.body, subtype="html" if rendered.html else "plain")
    if context.get("ics"):  # the invite itself: calendar clients add, move or remove the event from it
        message.add_attachment(
            context["ics"],
            subtype="calendar",
            filename="invite.ics" if context.get("method") != "CANCEL" else "cancel.ics",
            params={"method": context.get("method") or "REQUEST"},
        )
    return message


# What an action records once its call has returned, in the transaction that finishes the action.
Recorder = Callable[[asyncpg.Connection], Awaitable[None]]
# Actions whose vendor being away is waited out without limit (the record must get there), not failed.
PERSISTENT_KINDS = (hris.HIRE, writeback.WRITEBACK)
# Context fields an action no longer needs once finished (a hire's source document names the person).
FORGET = (hris.HIRE_FIELD,)


async def _nothing(conn: asyncpg.Connection) -> None:
    return None


async def _forward_erasure(
    ctx: SyncContext, tenant: str, key: str, cid: str | None, context: dict[str, Any]
) -> Recorder:
    """GDPR Art. 19: an erasure requested here is passed on to an ATS that held the candidate, where its API
    allows; where it does not (or the connection cannot call it) the step says so, for a person to finish."""
    async with tenant_tx(ctx.pool, tenant) as conn:
        c = await connections.get(conn, tenant, cid) if cid else None
    adapter = registry.ats_api(c.provider) if c is not None else None

    def outcome(connection_id: str, result: str, why: str, *, called: bool = False) -> Recorder:
        async def record(conn: asyncpg.Connection) -> None:
            await erasures.forwarded(conn, tenant, context, connection_id, result, why)
            if called:
                await mirror.record_operation(
                    conn, tenant, connection_id, "outbound", ERASE_WRITE, "success", key
                )

        return record

    if c is None or adapter is None:
        why = "the connection is gone" if c is None else f"{c.provider}: no API to erase a candidate through"
        return outcome(cid or "", "not_supported", why)
    creds = ctx.require_vault().decrypt(c.credentials)
    if c.shadow or not adapter.has_api_access(creds):
        why = (
            "the connection is in shadow mode: nothing is written to it"
            if c.shadow
            else f"the connection has no {c.provider} API credentials: erase the candidate there by hand"
        )
        return outcome(c.id, "not_supported", why)
    client = adapter.client(ctx.http(c.provider), c, creds, token_renewer(ctx, c))
    result = await client.write_back(ERASE_WRITE, key, {"candidate_id": context["erased_candidate"]})
    if isinstance(result, Skipped):
        return outcome(c.id, "not_supported", result.reason, called=True)
    return outcome(c.id, "done", "", called=True)


async def run_due(ctx: SyncContext, now: datetime | None = None) -> int:
    """One round: lease the due actions and commit, then run them (up to ``automation_concurrency`` at
    once, in order within a lane: one application's hire, one ATS record's writes, one candidate's mail)."""
    now = now or utc_now()
    lease_until = now + timedelta(seconds=ctx.settings.automation_lease_seconds)
    async with system_tx(ctx.pool) as conn:
        await store.cancel_erased(conn)
        rows = await store.claim_due(conn, now, lease_until, limit=ctx.settings.automation_batch)
    lanes: dict[tuple[str, str], list[asyncpg.Record]] = {}
    for row in rows:
        lanes.setdefault(_lane(row), []).append(row)
    slots = asyncio.Semaphore(ctx.settings.automation_concurrency)

    async def run_lane(lane: list[asyncpg.Record]) -> None:
        for row in lane:
            async with slots:
                await _execute(ctx, row)

    failed = [
        r
        for r in await asyncio.gather(*(run_lane(lane) for lane in lanes.values()), return_exceptions=True)
        if isinstance(r, BaseException)
    ]
    if failed:  # the database went away while recording: the leases expire, the actions come again
        raise failed[0]
    return len(rows)


def _lane(row: asyncpg.Record) -> tuple[str, str]:
    context = json.loads(row["context"])
    return row["tenant_id"], context.get("order_key") or context.get("candidate_id") or row["idempotency_key"]


async def _perform(ctx: SyncContext, row: asyncpg.Record) -> Recorder:
    """Run the action's call with no connection held (reads in short transactions of their own); what to
    record once it returned."""
    tenant, key, kind = row["tenant_id"], row["idempotency_key"], row["kind"]
    args, context = json.loads(row["args"]), json.loads(row["context"])
    cid = str(row["connection_id"]) if row["connection_id"] else None
    if kind in EMAIL_KINDS:
        sent = await _email(ctx, row, args, context)

        async def record_email(conn: asyncpg.Connection) -> None:
            await sent(conn)
            if kind == "dispatch_assessment" and args.get("follow_up_at"):
                await store.add_reminder(
                    conn,
                    tenant,
                    key,
                    rule_id=row["rule_id"],
                    connection_id=row["connection_id"],
                    args=args,
                    context=context,
                    event_at=row["event_at"],
                    due_at=datetime.fromisoformat(args["follow_up_at"]),
                )

        return record_email
    if kind == hris.HIRE:
        await hris.run_hire(ctx, tenant, context)
        return _nothing
    if kind == writeback.WRITEBACK:
        await writeback.run_writeback(ctx, tenant, context["writeback"])
        return _nothing
    if kind == "call_webhook":
        # The tenant's URL: through the outbound guard (no inside address, every redirect re-checked).
        response = await send(
            WEBHOOK,
            ctx.http(WEBHOOK),
            "POST",
            args["url"],
            json={"rule_id": row["rule_id"], "idempotency_key": key, **context},
            headers={"Idempotency-Key": key},
        )
        if not response.is_success:  # a redirect left unfollowed (too many, or no Location)
            raise vendor_http.Permanent(WEBHOOK, response.status_code, None, "not answered")

        async def record_webhook(conn: asyncpg.Connection) -> None:
            await store.log_communication(
                conn, tenant, key, "webhook", args["url"], "", "", "sent", row["event_at"]
            )

        return record_webhook
    if kind == erasures.FORWARD:
        return await _forward_erasure(ctx, tenant, key, cid, context)

    async def record_event(conn: asyncpg.Connection) -> None:  # no call: the outcome is the event
        await _announce(conn, row, args, context, cid)

    return record_event


async def _announce(
    conn: asyncpg.Connection,
    row: asyncpg.Record,
    args: dict[str, Any],
    context: dict[str, Any],
    cid: str | None,
) -> None:
    tenant, key, kind = row["tenant_id"], row["idempotency_key"], row["kind"]
    if kind == "open_scheduling_request":
        await stage(
            conn,
            type="ats.scheduling.requested",
            source=SOURCE,
            tenant_id=tenant,
            subject=f"application/{context.get('application_id')}",
            payload=ats_pb2.SchedulingRequested(
                connection_id=cid or "",
                remote_candidate_id=context.get("candidate_id", ""),
                remote_application_id=context.get("application_id", ""),
                candidate_email=context.get("candidate_email", ""),
                candidate_name=context.get("candidate_name", ""),
                rule_id=row["rule_id"],
                remote_job_id=context.get("job_id", ""),
                stage=context.get("stage", ""),
            ),
            key=f"{tenant}/{context.get('application_id')}",
        )
        await store.log_communication(
            conn, tenant, key, "event", "scheduler", "scheduling request", "", "sent", row["event_at"]
        )
        return
    # start_background_check, reject: no vendor API here; announce it for whoever runs it
    await stage(
        conn,
        type="ats.automation.requested",
        source=SOURCE,
        tenant_id=tenant,
        subject=f"application/{context.get('application_id')}",
        payload=ats_pb2.AutomationRequested(
            action=kind,
            connection_id=cid or "",
            remote_candidate_id=context.get("candidate_id", ""),
            remote_application_id=context.get("application_id", ""),
            rule_id=row["rule_id"],
            args={k: str(v) for k, v in args.items()},
        ),
        key=f"{tenant}/{context.get('application_id')}",
    )


async def _keep_leased(ctx: SyncContext, tenant: str, key: str) -> None:
    """While the action's call runs, its lease is moved on every third of its length, so a slow vendor
    does not let another worker claim it meanwhile; a worker that died stops moving it."""
    lease = ctx.settings.automation_lease_seconds
    while True:
        await asyncio.sleep(lease / 3)
        try:
            async with tenant_tx(ctx.pool, tenant) as conn:
                await store.extend_lease(conn, tenant, key, utc_now() + timedelta(seconds=lease))
        except (*DATABASE_AWAY, PoolExhausted) as exc:  # the lease may lapse; the action is idempotent
            log.warning("action %s: lease not extended (%s)", key, exc)


async def _execute(ctx: SyncContext, row: asyncpg.Record) -> None:
    tenant, key, kind = row["tenant_id"], row["idempotency_key"], row["kind"]
    cid = str(row["connection_id"]) if row["connection_id"] else None
    keeper = asyncio.create_task(_keep_leased(ctx, tenant, key))
    try:
        record = await _perform(ctx, row)
    except Exception as exc:  # noqa: BLE001 - a failed action is retried, then alerted, never dropped
        keeper.cancel()
        async with tenant_tx(ctx.pool, tenant) as conn:
            await _failed(ctx, conn, row, exc)
        return
    finally:
        keeper.cancel()
    async with tenant_tx(ctx.pool, tenant) as conn:
        await record(conn)
        await store.finish(conn, tenant, key, "done", forget=FORGET)
        await mirror.record_operation(conn, tenant, cid, "automation", kind, "success", key)
    metrics.record("automation", kind, "success")


def _backoff(ctx: SyncContext, attempts: int, exc: Exception) -> float:
    """Seconds until the next attempt: doubling from the initial delay up to the maximum, and never sooner
    than the vendor's Retry-After."""
    s = ctx.settings
    delay = min(
        s.automation_retry_initial_seconds * 2 ** max(attempts - 1, 0), s.automation_retry_max_seconds
    )
    after = getattr(exc, "retry_after_s", None)
    return max(delay, min(after, s.automation_retry_max_seconds)) if after else delay


async def _failed(ctx: SyncContext, conn: asyncpg.Connection, row: asyncpg.Record, exc: Exception) -> None:
    """Record a failed attempt: the database away is no attempt at all (the action is simply due again);
    a vendor down or throttling a persistent action (write-back, hand-off) is retried without limit, its
    owner alerted once when the attempts reach ``MAX_ATTEMPTS``; a refusal fails it at once; anything else
    fails after ``MAX_ATTEMPTS``. Every failure of an action is alerted to the connection's owner."""
    tenant, key, kind = row["tenant_id"], row["idempotency_key"], row["kind"]
    context = json.loads(row["context"])
    cid = str(row["connection_id"]) if row["connection_id"] else None
    # a webhook's failure is its fixed reason, never the answer it got
    why = reason(exc) if isinstance(exc, vendor_http.VendorError) else str(exc)
    if isinstance(exc, (*DATABASE_AWAY, PoolExhausted)):
        await store.retry_later(
            conn, tenant, key, utc_now() + timedelta(seconds=_backoff(ctx, 1, exc)), why, count=False
        )
        log.warning("action %s: the database was away (%s); due again", key, why)
        return
    attempts = row["attempts"] + 1
    refused = isinstance(exc, (vendor_http.Permanent, Permanent))
    waited_out = kind in PERSISTENT_KINDS and isinstance(exc, vendor_http.VendorError) and not refused
    if kind == "send_alert" and (refused or attempts >= MAX_ATTEMPTS):
        # An alert about a failed alert email would be another email through the same broken SMTP.
        await store.finish(conn, tenant, key, "failed", why)
        log.error("alert email %s to %s failed for good: %s", key, context.get("recipient"), why)
    elif waited_out or (not refused and attempts < MAX_ATTEMPTS):
        due = utc_now() + timedelta(seconds=_backoff(ctx, attempts, exc))
        await store.retry_later(conn, tenant, key, due, why)
        if waited_out and attempts == MAX_ATTEMPTS:
            await _alert(
                ctx, conn, row, f"failing after {attempts} attempts, still retrying", f"{key}: {why}"
            )
    else:
        await store.finish(conn, tenant, key, "failed", why)
        if kind == erasures.FORWARD:  # the request records that this ATS was not told
            await erasures.forwarded(conn, tenant, context, cid or "", "failed", why)
        await _alert(
            ctx, conn, row, f"failed after {attempts} attempt(s)", f"{key}: {type(exc).__name__}: {why}"
        )
    await mirror.record_operation(conn, tenant, cid, "automation", kind, "error", why)
    metrics.record("automation", kind, "error")


async def _alert(
    ctx: SyncContext, conn: asyncpg.Connection, row: asyncpg.Record, what: str, detail: str
) -> None:
    tenant, kind = row["tenant_id"], row["kind"]
    cid = str(row["connection_id"]) if row["connection_id"] else None
    owner = ctx.settings.alert_owner
    c = await connections.get(conn, tenant, cid) if cid else None
    if c is not None:
        owner = c.owner
    summary = f"sync: automation {row['rule_id']} ({kind}) {what}"
    if kind in PERSISTENT_KINDS and c is not None:
        summary = f"sync: {kind} to {c.provider} {what}"
    await stage_alert(
        conn,
        source=SOURCE,
        tenant_id=tenant,
        subject=f"connection/{cid or ''}",
        owner=owner,
        connection_id=cid or "",
        summary=summary,
        detail=detail,
    )


async def _email(
    ctx: SyncContext,
    row: asyncpg.Record,
    args: dict[str, Any],
    context: dict[str, Any],
) -> Recorder:
    """Render (the tenant's templates read in a short transaction), send over SMTP with none open; what
    records it in the communications log."""
    tenant, key = row["tenant_id"], row["idempotency_key"]
    recipient = context.get("recipient") or context.get("candidate_email")
    if not recipient:
        raise ValueError("the candidate has no email address in the mirror")
    async with tenant_tx(ctx.pool, tenant) as conn:
        stored = await store.templates(conn, tenant)
        already = await store.email_sent(conn, tenant, key)
    if row["kind"] == "send_email":
        name = args["template"]
    elif row["kind"] == "send_alert":
        name = "alert"
        stored.setdefault(name, DEFAULT_ALERT)
    elif row["kind"] == "send_interview_email":
        name = context["template"]
        stored.setdefault(name, DEFAULT_INTERVIEW[name])
    elif row["kind"] == "send_scheduling_link":
        name = "scheduling_link"
        stored.setdefault(name, DEFAULT_SCHEDULING_LINK)
    else:
        name = "assessment_reminder" if row["kind"] == "assessment_reminder" else "assessment"
        stored.setdefault(name, DEFAULT_REMINDER if name == "assessment_reminder" else DEFAULT_ASSESSMENT)
    rendered = EmailTemplates(stored).render(name, {**context, **args})
    if already:
        return _nothing  # already sent (a retry after the log committed)
    message = build_message(ctx.settings.smtp_sender, recipient, rendered, key, context)
    await aiosmtplib.send(
        message.as_bytes(),  # as built: aiosmtplib would re-fold an EmailMessage under its own policy
        sender=ctx.settings.smtp_sender,
        recipients=[recipient],
        hostname=ctx.settings.smtp_host,
        port=ctx.settings.smtp_port,
        timeout=10,
    )

    async def record(conn: asyncpg.Connection) -> None:
        await store.log_communication(
            conn, tenant, key, "email", recipient, rendered.subject, rendered.body, "sent", row["event_at"]
        )
        if row["kind"] != "send_alert":  # the SLA is about candidates, not operators
            metrics.COMMUNICATION_SECONDS.observe((utc_now() - row["event_at"]).total_seconds())

    return record
