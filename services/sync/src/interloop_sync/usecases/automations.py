"""The automation worker: executes due actions (email over SMTP, webhook calls, scheduling requests,
assessment
links with a reminder, background checks, delayed rejections). Each action row runs once; its idempotency key
is also the communications-log key, so a retry after a crash never sends twice what was logged as sent."""

from __future__ import annotations

import email.policy
import json
import logging
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import asyncpg
from interloop.events.v1 import ats_pb2
from interloop_common import vendor_http
from interloop_common.clock import utc_now
from interloop_common.db import system_tx
from interloop_common.outbox import stage, stage_alert
from interloop_common.periodic import Wakeup, every

from interloop_sync.domain.automations import EmailTemplate, EmailTemplates, RenderedEmail
from interloop_sync.store import automations as store
from interloop_sync.store import connections, mirror
from interloop_sync.usecases import SOURCE, erasures, metrics
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
    """Due actions, one batch after another while there are any; else at the next poll interval, or at
    once when an action that is already due commits (migration 0005's NOTIFY)."""
    wakeup = Wakeup(ctx.pool, WAKEUP_CHANNEL)
    try:
        await every(
            ctx.settings.automation_poll_seconds,
            "automations",
            wakeup.round(lambda: run_due(ctx)),
            drain=True,
            max_backoff=MAX_WORKER_BACKOFF_S,
            sleep=wakeup.nap,
        )
    finally:
        await wakeup.close()


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


async def _forward_erasure(
    ctx: SyncContext,
    conn: asyncpg.Connection,
    tenant: str,
    key: str,
    cid: str | None,
    context: dict[str, Any],
) -> None:
    """GDPR Art. 19: an erasure requested here is passed on to an ATS that held the candidate, where its API
    allows; where it does not (or the connection cannot call it) the step says so, for a person to finish."""
    c = await connections.get(conn, tenant, cid) if cid else None
    adapter = registry.ats_api(c.provider) if c is not None else None
    if c is None or adapter is None:
        why = "the connection is gone" if c is None else f"{c.provider}: no API to erase a candidate through"
        await erasures.forwarded(conn, tenant, context, cid or "", "not_supported", why)
        return
    creds = ctx.vault.decrypt(c.credentials)  # type: ignore[arg-type]
    if c.shadow or not adapter.has_api_access(creds):
        why = (
            "the connection is in shadow mode: nothing is written to it"
            if c.shadow
            else f"the connection has no {c.provider} API credentials: erase the candidate there by hand"
        )
        await erasures.forwarded(conn, tenant, context, c.id, "not_supported", why)
        return
    client = adapter.client(ctx.http(c.provider), c, creds, token_renewer(ctx, c))
    result = await client.write_back(ERASE_WRITE, key, {"candidate_id": context["erased_candidate"]})
    if isinstance(result, Skipped):
        await erasures.forwarded(conn, tenant, context, c.id, "not_supported", result.reason)
    else:
        await erasures.forwarded(conn, tenant, context, c.id, "done", "")
    await mirror.record_operation(conn, tenant, c.id, "outbound", ERASE_WRITE, "success", key)


async def run_due(ctx: SyncContext, now: datetime | None = None) -> int:
    now = now or utc_now()
    async with system_tx(ctx.pool) as conn:
        await store.cancel_erased(conn)
        rows = await store.claim_due(conn, now)
        for row in rows:
            await _execute(ctx, conn, row, now)
    return len(rows)


async def _execute(ctx: SyncContext, conn: asyncpg.Connection, row: asyncpg.Record, now: datetime) -> None:
    tenant, key, kind = row["tenant_id"], row["idempotency_key"], row["kind"]
    args, context = json.loads(row["args"]), json.loads(row["context"])
    cid = str(row["connection_id"]) if row["connection_id"] else None
    try:
        if kind in EMAIL_KINDS:
            await _email(ctx, conn, row, args, context)
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
        elif kind == "call_webhook":
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
            await store.log_communication(
                conn, tenant, key, "webhook", args["url"], "", "", "sent", row["event_at"]
            )
        elif kind == erasures.FORWARD:
            await _forward_erasure(ctx, conn, tenant, key, cid, context)
        elif kind == "open_scheduling_request":
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
        else:  # start_background_check, reject: no vendor API here; announce it for whoever runs it
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
    except Exception as exc:  # noqa: BLE001 - a failed action is retried, then alerted, never dropped
        # a webhook's failure is its fixed reason, never the answer it got
        why = reason(exc) if isinstance(exc, vendor_http.VendorError) else str(exc)
        attempts = row["attempts"] + 1
        if attempts >= MAX_ATTEMPTS and kind == "send_alert":
            # An alert about a failed alert email would be another email through the same broken SMTP.
            await store.finish(conn, tenant, key, "failed", why)
            log.error("alert email %s to %s failed for good: %s", key, context.get("recipient"), why)
        elif attempts >= MAX_ATTEMPTS:
            await store.finish(conn, tenant, key, "failed", why)
            if kind == erasures.FORWARD:  # the request records that this ATS was not told
                await erasures.forwarded(conn, tenant, context, cid or "", "failed", why)
            owner = ctx.settings.alert_owner
            if cid:
                c = await connections.get(conn, tenant, cid)
                owner = c.owner if c else owner
            await stage_alert(
                conn,
                source=SOURCE,
                tenant_id=tenant,
                subject=f"connection/{cid or ''}",
                owner=owner,
                connection_id=cid or "",
                summary=f"sync: automation {row['rule_id']} ({kind}) failed after {attempts} attempts",
                detail=f"{key}: {type(exc).__name__}: {why}",
            )
        else:
            await store.retry_later(conn, tenant, key, now + timedelta(seconds=2**attempts), why)
        await mirror.record_operation(conn, tenant, cid, "automation", kind, "error", why)
        metrics.record("automation", kind, "error")
        return
    await store.finish(conn, tenant, key, "done")
    await mirror.record_operation(conn, tenant, cid, "automation", kind, "success", key)
    metrics.record("automation", kind, "success")


async def _email(
    ctx: SyncContext,
    conn: asyncpg.Connection,
    row: asyncpg.Record,
    args: dict[str, Any],
    context: dict[str, Any],
) -> None:
    tenant, key = row["tenant_id"], row["idempotency_key"]
    recipient = context.get("recipient") or context.get("candidate_email")
    if not recipient:
        raise ValueError("the candidate has no email address in the mirror")
    stored = await store.templates(conn, tenant)
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
    if await store.email_sent(conn, tenant, key):
        return  # already sent (a retry after the log committed)
    message = build_message(ctx.settings.smtp_sender, recipient, rendered, key, context)
    await aiosmtplib.send(
        message.as_bytes(),  # as built: aiosmtplib would re-fold an EmailMessage under its own policy
        sender=ctx.settings.smtp_sender,
        recipients=[recipient],
        hostname=ctx.settings.smtp_host,
        port=ctx.settings.smtp_port,
        timeout=10,
    )
    await store.log_communication(
        conn, tenant, key, "email", recipient, rendered.subject, rendered.body, "sent", row["event_at"]
    )
    if row["kind"] != "send_alert":  # the SLA is about candidates, not operators
        metrics.COMMUNICATION_SECONDS.observe((utc_now() - row["event_at"]).total_seconds())
