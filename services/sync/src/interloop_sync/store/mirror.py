"""The mirror of ATS records (candidates, jobs, applications, offers) keyed by remote id; tenant_id in
every WHERE."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from interloop_common.retention import Sweep

from interloop_sync.domain.identity import erase, normalise_email, normalise_phone
from interloop_sync.domain.jsonable import dumps
from interloop_sync.domain.model import Application, Candidate, Job, Offer, PersonRef, Stage

# A delivery id only guards against a vendor's redelivery, and vendors stop retrying within days
# (Greenhouse about 15 h, Lever 24 h): a month of ids is ample. Quarantined bodies hold personal data
# nobody replays automatically; an operator has a month to look at them, then they go.
DELIVERIES = Sweep("webhook_deliveries", "received_at", timedelta(days=30))
QUARANTINE = Sweep("quarantine", "received_at", timedelta(days=30))


async def record_delivery(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, delivery_id: str, event_types: list[str]
) -> bool:
    """True if this delivery is new; False for a replay (nothing else is stored then)."""
    return bool(
        await conn.fetchval(
            """INSERT INTO webhook_deliveries (tenant_id, connection_id, delivery_id, event_types)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true""",
            tenant_id,
            uuid.UUID(connection_id),
            delivery_id,
            event_types,
        )
    )


async def delivery_seen(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, delivery_id: str
) -> bool:
    return bool(
        await conn.fetchval(
            """SELECT true FROM webhook_deliveries
               WHERE tenant_id = $1 AND connection_id = $2 AND delivery_id = $3""",
            tenant_id,
            uuid.UUID(connection_id),
            delivery_id,
        )
    )


async def quarantine(
    conn: asyncpg.Connection,
    tenant_id: str,
    connection_id: str,
    reason: str,
    raw: bytes,
    headers: dict[str, str],
) -> None:
    await conn.execute(
        """INSERT INTO quarantine (tenant_id, id, connection_id, reason, raw_body, headers, body_sha256)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) ON CONFLICT DO NOTHING""",
        tenant_id,
        uuid.uuid4(),
        uuid.UUID(connection_id),
        reason[:2000],
        raw,
        json.dumps(headers),
        hashlib.sha256(raw).hexdigest(),
    )


async def record_operation(
    conn: asyncpg.Connection,
    tenant_id: str,
    connection_id: str | None,
    direction: str,
    operation: str,
    outcome: str,
    detail: str = "",
) -> None:
    await conn.execute(
        """INSERT INTO sync_operations (tenant_id, connection_id, direction, operation, outcome, detail)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        tenant_id,
        uuid.UUID(connection_id) if connection_id else None,
        direction,
        operation,
        outcome,
        detail[:1000],
    )


async def record_unrecognised(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, delivery_id: str, action: str, raw: Any
) -> None:
    await conn.execute(
        """INSERT INTO unrecognised_events (tenant_id, connection_id, delivery_id, action, raw)
           VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT DO NOTHING""",
        tenant_id,
        uuid.UUID(connection_id),
        delivery_id,
        action,
        dumps(raw),
    )


# ---- candidates -----------------------------------------------------------------------------------------


def _norms(c: Candidate) -> tuple[list[str], list[str]]:
    emails = sorted({e for e in map(normalise_email, c.emails) if e})
    phones = sorted({p for p in map(normalise_phone, c.phones) if p})
    return emails, phones


async def upsert_candidate(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, c: Candidate
) -> bool:
    """Mirror a candidate. Returns True when it is a new record of a person we already knew (a duplicate
    found by normalised email or phone): both records then share one person_id."""
    cid = uuid.UUID(connection_id)
    emails, phones = _norms(c)
    # One round trip: this record's own person if it is mirrored already, else the oldest-updated live record
    # sharing a normalised email or phone (a duplicate of a person we knew), else nobody.
    found = await conn.fetchrow(
        """SELECT person_id, (connection_id = $2 AND remote_id = $3) AS own FROM candidates
           WHERE tenant_id = $1 AND ((connection_id = $2 AND remote_id = $3)
               OR (NOT deleted AND (norm_emails && $4::text[] OR norm_phones && $5::text[])))
           ORDER BY own DESC, updated_at LIMIT 1""",
        tenant_id,
        cid,
        c.remote_id,
        emails,
        phones,
    )
    duplicate = found is not None and not found["own"]
    person = found["person_id"] if found is not None else uuid.uuid4()
    await conn.execute(
        """INSERT INTO candidates (tenant_id, connection_id, remote_id, person_id, first_name, last_name,
               emails, phones,
               norm_emails, norm_phones, data, anonymised)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12)
           ON CONFLICT (tenant_id, connection_id, remote_id) DO UPDATE SET
               first_name = coalesce(EXCLUDED.first_name, candidates.first_name),
               last_name = coalesce(EXCLUDED.last_name, candidates.last_name),
               emails = CASE WHEN cardinality(EXCLUDED.emails) > 0 THEN EXCLUDED.emails ELSE
                   candidates.emails END,
               phones = CASE WHEN cardinality(EXCLUDED.phones) > 0 THEN EXCLUDED.phones ELSE
                   candidates.phones END,
               norm_emails = CASE WHEN cardinality(EXCLUDED.norm_emails) > 0 THEN EXCLUDED.norm_emails
                                  ELSE candidates.norm_emails END,
               norm_phones = CASE WHEN cardinality(EXCLUDED.norm_phones) > 0 THEN EXCLUDED.norm_phones
                                  ELSE candidates.norm_phones END,
               data = candidates.data || EXCLUDED.data,
               anonymised = candidates.anonymised OR EXCLUDED.anonymised,
               updated_at = now()""",
        tenant_id,
        cid,
        c.remote_id,
        person,
        c.first_name,
        c.last_name,
        list(c.emails),
        list(c.phones),
        emails,
        phones,
        dumps({k: v for k, v in _candidate_data(c).items() if v not in (None, "", [], {})}),
        c.is_anonymised,
    )
    return duplicate


def _candidate_data(c: Candidate) -> dict[str, Any]:
    return {
        "title": c.title,
        "company": c.company,
        "external_id": c.external_id,
        "tags": list(c.tags),
        "recruiter": c.recruiter,
        "created_at": c.created_at,
        "custom_fields": dict(c.custom_fields),
    }


async def get_candidate(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, remote_id: str
) -> Candidate | None:
    r = await conn.fetchrow(
        """SELECT remote_id, first_name, last_name, emails, phones, data, anonymised FROM candidates
           WHERE tenant_id = $1 AND connection_id = $2 AND remote_id = $3""",
        tenant_id,
        uuid.UUID(connection_id),
        remote_id,
    )
    if r is None:
        return None
    data = json.loads(r["data"])
    recruiter = data.get("recruiter")
    return Candidate(
        provider="",
        remote_id=r["remote_id"],
        first_name=r["first_name"],
        last_name=r["last_name"],
        emails=tuple(r["emails"]),
        phones=tuple(r["phones"]),
        title=data.get("title"),
        company=data.get("company"),
        external_id=data.get("external_id"),
        tags=tuple(data.get("tags", ())),
        recruiter=PersonRef(**recruiter) if isinstance(recruiter, dict) else None,
        custom_fields=data.get("custom_fields", {}),
        is_anonymised=r["anonymised"],
    )


async def erase_candidate(
    conn: asyncpg.Connection,
    tenant_id: str,
    connection_id: str,
    remote_id: str,
    fields: list[str] | None,
    *,
    deleted: bool,
) -> None:
    """Erase local PII (all of it, or the ATS's anonymised fields); ids stay as the recipient map."""
    current = await get_candidate(conn, tenant_id, connection_id, remote_id) or Candidate("", remote_id)
    erased = erase(current, fields)
    if deleted:
        erased = erase(current, None)
    emails, phones = _norms(erased)
    await conn.execute(
        """INSERT INTO candidates (tenant_id, connection_id, remote_id, person_id, first_name, last_name,
               emails, phones,
               norm_emails, norm_phones, data, anonymised, deleted)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, true, $12)
           ON CONFLICT (tenant_id, connection_id, remote_id) DO UPDATE SET first_name = EXCLUDED.first_name,
               last_name = EXCLUDED.last_name, emails = EXCLUDED.emails, phones = EXCLUDED.phones,
               norm_emails = EXCLUDED.norm_emails, norm_phones = EXCLUDED.norm_phones, data = EXCLUDED.data,
               anonymised = true, deleted = candidates.deleted OR EXCLUDED.deleted, updated_at = now()""",
        tenant_id,
        uuid.UUID(connection_id),
        remote_id,
        uuid.uuid4(),
        erased.first_name,
        erased.last_name,
        list(erased.emails),
        list(erased.phones),
        emails,
        phones,
        dumps({k: v for k, v in _candidate_data(erased).items() if v not in (None, "", [], {})}),
        deleted,
    )


async def merge_candidates(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, surviving: str, merged: str
) -> None:
    cid = uuid.UUID(connection_id)
    person = await conn.fetchval(
        "SELECT person_id FROM candidates WHERE tenant_id = $1 AND connection_id = $2 AND remote_id = $3",
        tenant_id,
        cid,
        surviving,
    )
    if person is None:
        person = uuid.uuid4()
        await conn.execute(
            """INSERT INTO candidates (tenant_id, connection_id, remote_id, person_id) VALUES ($1, $2, $3, $4)
               ON CONFLICT DO NOTHING""",
            tenant_id,
            cid,
            surviving,
            person,
        )
    await conn.execute(
        """UPDATE candidates SET merged_into = $4, person_id = $5, updated_at = now()
           WHERE tenant_id = $1 AND connection_id = $2 AND remote_id = $3""",
        tenant_id,
        cid,
        merged,
        surviving,
        person,
    )
    await conn.execute(
        """UPDATE applications SET candidate_remote_id = $4, updated_at = now()
           WHERE tenant_id = $1 AND connection_id = $2 AND candidate_remote_id = $3""",
        tenant_id,
        cid,
        merged,
        surviving,
    )


# ---- jobs, applications, stages, offers --------------------------------------------------------------------


async def upsert_job(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, j: Job, *, deleted: bool = False
) -> None:
    await conn.execute(
        """INSERT INTO jobs (tenant_id, connection_id, remote_id, name, status, data, deleted)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
           ON CONFLICT (tenant_id, connection_id, remote_id) DO UPDATE SET
               name = coalesce(EXCLUDED.name, jobs.name), status = coalesce(EXCLUDED.status, jobs.status),
               data = jobs.data || EXCLUDED.data, deleted = EXCLUDED.deleted, updated_at = now()""",
        tenant_id,
        uuid.UUID(connection_id),
        j.remote_id,
        j.name,
        j.status,
        dumps({"departments": j.departments, "offices": j.offices, "requisition_id": j.requisition_id}),
        deleted,
    )


async def upsert_application(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, a: Application
) -> None:
    await conn.execute(
        """INSERT INTO applications (tenant_id, connection_id, remote_id, candidate_remote_id, job_ids,
               status, source,
               applied_at, rejected_at, data)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)
           ON CONFLICT (tenant_id, connection_id, remote_id) DO UPDATE SET
               candidate_remote_id = coalesce(EXCLUDED.candidate_remote_id, applications.candidate_remote_id),
               job_ids = CASE WHEN cardinality(EXCLUDED.job_ids) > 0 THEN EXCLUDED.job_ids ELSE
                   applications.job_ids END,
               status = coalesce(EXCLUDED.status, applications.status),
               source = coalesce(EXCLUDED.source, applications.source),
               applied_at = coalesce(EXCLUDED.applied_at, applications.applied_at),
               rejected_at = coalesce(EXCLUDED.rejected_at, applications.rejected_at),
               data = applications.data || EXCLUDED.data, updated_at = now()""",
        tenant_id,
        uuid.UUID(connection_id),
        a.remote_id,
        a.candidate_id,
        list(a.job_ids),
        a.status,
        a.source,
        a.applied_at,
        a.rejected_at,
        dumps(
            {
                k: v
                for k, v in {
                    "prospect": a.prospect,
                    "opening_id": a.opening_id,
                    "custom_fields": dict(a.custom_fields),
                }.items()
                if v not in (None, {}, "")
            }
        ),
    )


async def current_stage(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, application_id: str
) -> tuple[str | None, str | None]:
    r = await conn.fetchrow(
        """SELECT stage_id, stage_name FROM applications WHERE tenant_id = $1 AND connection_id = $2 AND
               remote_id = $3""",
        tenant_id,
        uuid.UUID(connection_id),
        application_id,
    )
    return (r["stage_id"], r["stage_name"]) if r else (None, None)


async def get_application(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, remote_id: str
) -> Application | None:
    """The mirrored application (None when unknown or deleted)."""
    r = await conn.fetchrow(
        """SELECT remote_id, candidate_remote_id, job_ids, status, stage_id, stage_name, source
           FROM applications
           WHERE tenant_id = $1 AND connection_id = $2 AND remote_id = $3 AND NOT deleted""",
        tenant_id,
        uuid.UUID(connection_id),
        remote_id,
    )
    if r is None:
        return None
    return Application(
        provider="",
        remote_id=r["remote_id"],
        candidate_id=r["candidate_remote_id"],
        job_ids=tuple(r["job_ids"]),
        status=r["status"],
        current_stage=Stage(r["stage_id"], r["stage_name"]) if r["stage_id"] else None,
        source=r["source"],
    )


async def candidate_applications(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, candidate_id: str
) -> list[str]:
    """The ids of the candidate's live applications, oldest first."""
    found = await conn.fetch(
        """SELECT remote_id FROM applications WHERE tenant_id = $1 AND connection_id = $2
               AND candidate_remote_id = $3 AND NOT deleted ORDER BY applied_at NULLS LAST, remote_id""",
        tenant_id,
        uuid.UUID(connection_id),
        candidate_id,
    )
    return [r["remote_id"] for r in found]


async def get_jobs(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, remote_ids: tuple[str, ...]
) -> list[Job]:
    """The mirrored jobs of ``remote_ids``, in that order (unknown ones left out)."""
    found = await conn.fetch(
        """SELECT remote_id, name, status FROM jobs WHERE tenant_id = $1 AND connection_id = $2
               AND remote_id = ANY($3::text[])""",
        tenant_id,
        uuid.UUID(connection_id),
        list(remote_ids),
    )
    by_id = {r["remote_id"]: Job("", r["remote_id"], name=r["name"], status=r["status"]) for r in found}
    return [by_id[j] for j in remote_ids if j in by_id]


async def application_jobs(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, application_id: str
) -> list[str]:
    jobs = await conn.fetchval(
        "SELECT job_ids FROM applications WHERE tenant_id = $1 AND connection_id = $2 AND remote_id = $3",
        tenant_id,
        uuid.UUID(connection_id),
        application_id,
    )
    return list(jobs or [])


async def move_stage(
    conn: asyncpg.Connection,
    tenant_id: str,
    connection_id: str,
    application_id: str,
    stage_id: str,
    stage_name: str | None,
    at: datetime,
) -> None:
    cid = uuid.UUID(connection_id)
    await conn.execute(
        """UPDATE stage_history SET left_at = $4, outcome = 'advanced'
           WHERE tenant_id = $1 AND connection_id = $2 AND application_id = $3 AND left_at IS NULL""",
        tenant_id,
        cid,
        application_id,
        at,
    )
    await conn.execute(
        """INSERT INTO stage_history (tenant_id, connection_id, application_id, stage_id, stage_name,
               entered_at)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        tenant_id,
        cid,
        application_id,
        stage_id,
        stage_name,
        at,
    )
    await conn.execute(
        """INSERT INTO applications (tenant_id, connection_id, remote_id, stage_id, stage_name,
               stage_entered_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (tenant_id, connection_id, remote_id) DO UPDATE SET stage_id = EXCLUDED.stage_id,
               stage_name = coalesce(EXCLUDED.stage_name, applications.stage_name),
               stage_entered_at = EXCLUDED.stage_entered_at, updated_at = now()""",
        tenant_id,
        cid,
        application_id,
        stage_id,
        stage_name,
        at,
    )


async def close_application(
    conn: asyncpg.Connection,
    tenant_id: str,
    connection_id: str,
    application_id: str,
    outcome: str,
    at: datetime,
) -> None:
    """Hired or rejected: the open stage ends with that outcome (drop-off for rejections)."""
    cid = uuid.UUID(connection_id)
    await conn.execute(
        """UPDATE stage_history SET left_at = $4, outcome = $5
           WHERE tenant_id = $1 AND connection_id = $2 AND application_id = $3 AND left_at IS NULL""",
        tenant_id,
        cid,
        application_id,
        at,
        outcome,
    )
    column = "hired_at" if outcome == "hired" else "rejected_at"
    await conn.execute(
        f"""INSERT INTO applications (tenant_id, connection_id, remote_id, status, {column})
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (tenant_id, connection_id, remote_id) DO UPDATE SET status = EXCLUDED.status,
                {column} = EXCLUDED.{column}, updated_at = now()""",  # noqa: S608 - one of two literal columns
        tenant_id,
        cid,
        application_id,
        outcome,
        at,
    )


async def reopen_application(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, application_id: str
) -> None:
    await conn.execute(
        """UPDATE applications SET status = 'active', hired_at = NULL, rejected_at = NULL, updated_at = now()
           WHERE tenant_id = $1 AND connection_id = $2 AND remote_id = $3""",
        tenant_id,
        uuid.UUID(connection_id),
        application_id,
    )


async def delete_application(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, application_id: str
) -> None:
    await conn.execute(
        """UPDATE applications SET deleted = true, data = '{}'::jsonb, updated_at = now()
           WHERE tenant_id = $1 AND connection_id = $2 AND remote_id = $3""",
        tenant_id,
        uuid.UUID(connection_id),
        application_id,
    )


async def upsert_offer(
    conn: asyncpg.Connection, tenant_id: str, connection_id: str, o: Offer, status: str | None = None
) -> None:
    await conn.execute(
        """INSERT INTO offers (tenant_id, connection_id, remote_id, application_id, status, resolved_at, data)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
           ON CONFLICT (tenant_id, connection_id, remote_id) DO UPDATE SET
               application_id = coalesce(EXCLUDED.application_id, offers.application_id),
               status = coalesce(EXCLUDED.status, offers.status),
               resolved_at = coalesce(EXCLUDED.resolved_at, offers.resolved_at),
               data = offers.data || EXCLUDED.data, updated_at = now()""",
        tenant_id,
        uuid.UUID(connection_id),
        o.remote_id,
        o.application_id,
        status or o.status,
        o.resolved_at,
        dumps({"version": o.version, "start_date": o.start_date, "custom_fields": dict(o.custom_fields)}),
    )


async def candidates_with_email(conn: asyncpg.Connection, tenant_id: str, email: str) -> list[str]:
    """The remote ids of the candidates held with this normalised address, erased ones left out."""
    rows = await conn.fetch(
        """SELECT DISTINCT c.remote_id FROM candidates c
           WHERE c.tenant_id = $1 AND $2 = ANY(c.norm_emails)
             AND NOT EXISTS (SELECT 1 FROM erased_candidates e
                             WHERE e.tenant_id = $1 AND e.candidate_id = c.remote_id)
           ORDER BY 1""",
        tenant_id,
        email,
    )
    return [r[0] for r in rows]
