"""Interviewers (with their availability profile and calendar source) and their busy blocks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time

import asyncpg
from asyncpg import Range

from interloop_scheduler.domain.model import Interviewer, SchedulingError, Stage, Unknown

EXTERNAL_SOURCES = ("google", "graph", "ics", "caldav")


@dataclass(frozen=True)
class InterviewerRow:
    id: str
    email: str
    display_name: str
    time_zone: str
    working_hours: list[dict]  # [{"weekday": 1..7, "start": "HH:MM", "end": "HH:MM"}]
    daily_cap: int  # 0 = no cap
    weekly_cap: int
    interview_types: list[str] = field(default_factory=list)  # trained for
    calendar_status: str = "known"
    overrides: dict[str, list[dict]] = field(default_factory=dict)  # "YYYY-MM-DD" -> [{"start", "end"}]
    out_of_office: list[dict] = field(default_factory=list)  # [{"start": iso, "end": iso}]
    training: dict[str, str] = field(default_factory=dict)  # interview type -> shadow | reverse_shadow
    calendar: dict[str, str] = field(default_factory=dict)  # {kind, calendar_id, url, credential, user}
    calendar_reason: str = ""

    @property
    def calendar_kind(self) -> str:
        return self.calendar.get("kind") or "manual"


def _row(r: asyncpg.Record) -> InterviewerRow:
    return InterviewerRow(
        id=r["id"],
        email=r["email"],
        display_name=r["display_name"],
        time_zone=r["time_zone"],
        working_hours=json.loads(r["working_hours"]),
        daily_cap=r["daily_cap"],
        weekly_cap=r["weekly_cap"],
        interview_types=list(r["interview_types"]),
        calendar_status=r["calendar_status"],
        overrides=json.loads(r["overrides"]),
        out_of_office=json.loads(r["out_of_office"]),
        training=json.loads(r["training"]),
        calendar=json.loads(r["calendar"]),
        calendar_reason=r["calendar_reason"],
    )


# -- mapping to the domain model (pure)


def parse_clock(text: str, field_name: str, *, end: bool = False) -> time:
    """ "HH:MM" -> time; "24:00" (only as an end) is midnight at the day's end, time(0) in the domain."""
    try:
        hh, mm = text.split(":")
        h, m = int(hh), int(mm)
    except ValueError:
        raise SchedulingError(field_name, f"{text!r} is not HH:MM") from None
    if end and h == 24 and m == 0:
        return time(0)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise SchedulingError(
            field_name, f"{text!r} is not a time between 00:00 and {'24:00' if end else '23:59'}"
        )
    return time(h, m)


def _window(w: dict, field_name: str) -> tuple[time, time]:
    start = parse_clock(w["start"], f"{field_name}.start")
    finish = parse_clock(w["end"], f"{field_name}.end", end=True)
    if finish != time(0) and finish <= start:
        raise SchedulingError(field_name, "start must be before end")
    return start, finish


def _instant(text: str, field_name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise SchedulingError(field_name, f"{text!r} is not an ISO 8601 instant") from None
    if moment.tzinfo is None:
        raise SchedulingError(field_name, "needs a UTC offset")
    return moment


def to_domain(row: InterviewerRow) -> Interviewer:
    """The stored profile as the domain's ``Interviewer`` (weekday 1..7 -> 0..6, caps 0 -> none)."""
    hours: dict[int, list[tuple[time, time]]] = {}
    for n, w in enumerate(row.working_hours):
        if not 1 <= int(w["weekday"]) <= 7:
            raise SchedulingError(f"working_hours[{n}].weekday", "1 (Monday) .. 7 (Sunday)")
        hours.setdefault(int(w["weekday"]) - 1, []).append(_window(w, f"working_hours[{n}]"))
    overrides: dict[date, tuple[tuple[time, time], ...]] = {}
    for day, windows in row.overrides.items():
        try:
            local = date.fromisoformat(day)
        except ValueError:
            raise SchedulingError(f"overrides[{day}]", "a date like 2026-03-09") from None
        overrides[local] = tuple(_window(w, f"overrides[{day}]") for w in windows)
    ooo = tuple(
        (_instant(o["start"], f"out_of_office[{n}].start"), _instant(o["end"], f"out_of_office[{n}].end"))
        for n, o in enumerate(row.out_of_office)
    )
    training: dict[str, Stage] = {t: Stage(s) for t, s in row.training.items()}
    for t in row.interview_types:
        training[t] = Stage.TRAINED
    return Interviewer(
        id=row.id,
        zone=row.time_zone,
        working_hours={d: tuple(sorted(ws)) for d, ws in hours.items()},
        overrides=overrides,
        out_of_office=ooo,
        daily_cap=row.daily_cap or None,
        weekly_cap=row.weekly_cap or None,
        training=training,
        email=row.email,
        name=row.display_name,
    )


def busy_map(
    rows: dict[str, InterviewerRow], blocks: dict[str, list[tuple[datetime, datetime]]]
) -> dict[str, list[tuple[datetime, datetime]] | Unknown]:
    """Busy per interviewer; a calendar whose last read failed (or was never read) is ``Unknown``."""
    out: dict[str, list[tuple[datetime, datetime]] | Unknown] = {}
    for i, row in rows.items():
        if row.calendar_status != "known":
            out[i] = Unknown(row.calendar_reason or "calendar not read yet")
        else:
            out[i] = blocks.get(i, [])
    return out


# -- queries


async def upsert(
    conn: asyncpg.Connection, tenant_id: str, i: InterviewerRow, *, replace_profile: bool = True
) -> InterviewerRow:
    """Create or update; with ``replace_profile=False`` an existing interviewer keeps its overrides,
    out-of-office, training and calendar source (a client that does not know them cannot wipe them)."""
    if not replace_profile:
        current = await get_many(conn, tenant_id, [i.id])
        if i.id in current:
            old = current[i.id]
            i = InterviewerRow(
                **{
                    **i.__dict__,
                    "overrides": old.overrides,
                    "out_of_office": old.out_of_office,
                    "training": {**old.training, **i.training},
                    "calendar": old.calendar,
                }
            )
    # A manual calendar is known by definition (we hold its blocks); an external one is unknown until
    # read, and becomes unknown again when its configuration changes.
    r = await conn.fetchrow(
        """INSERT INTO interviewers (tenant_id, id, email, display_name, time_zone, working_hours,
                                     daily_cap, weekly_cap, interview_types, overrides, out_of_office,
                                     training, calendar, calendar_status, calendar_reason)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10::jsonb, $11::jsonb, $12::jsonb, $13::jsonb,
                   CASE WHEN $14 THEN 'unknown' ELSE 'known' END,
                   CASE WHEN $14 THEN 'calendar not read yet' ELSE '' END)
           ON CONFLICT (tenant_id, id) DO UPDATE SET email = EXCLUDED.email,
               display_name = EXCLUDED.display_name, time_zone = EXCLUDED.time_zone,
               working_hours = EXCLUDED.working_hours, daily_cap = EXCLUDED.daily_cap,
               weekly_cap = EXCLUDED.weekly_cap, interview_types = EXCLUDED.interview_types,
               overrides = EXCLUDED.overrides, out_of_office = EXCLUDED.out_of_office,
               training = EXCLUDED.training, calendar = EXCLUDED.calendar,
               calendar_status = CASE WHEN NOT $14 THEN 'known'
                                      WHEN interviewers.calendar IS DISTINCT FROM EXCLUDED.calendar
                                      THEN 'unknown'
                                      ELSE interviewers.calendar_status END,
               calendar_reason = CASE WHEN NOT $14 THEN ''
                                      WHEN interviewers.calendar IS DISTINCT FROM EXCLUDED.calendar
                                      THEN 'calendar not read yet'
                                      ELSE interviewers.calendar_reason END,
               updated_at = now()
           RETURNING *""",
        tenant_id,
        i.id,
        i.email,
        i.display_name,
        i.time_zone,
        json.dumps(i.working_hours),
        i.daily_cap,
        i.weekly_cap,
        i.interview_types,
        json.dumps(i.overrides),
        json.dumps(i.out_of_office),
        json.dumps(i.training),
        json.dumps(i.calendar),
        i.calendar_kind in EXTERNAL_SOURCES,
    )
    return _row(r)


async def list_all(
    conn: asyncpg.Connection, tenant_id: str, *, after: str = "", limit: int = 100
) -> list[InterviewerRow]:
    rows = await conn.fetch(
        "SELECT * FROM interviewers WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        tenant_id,
        after,
        limit,
    )
    return [_row(r) for r in rows]


async def get_many(conn: asyncpg.Connection, tenant_id: str, ids: list[str]) -> dict[str, InterviewerRow]:
    rows = await conn.fetch(
        "SELECT * FROM interviewers WHERE tenant_id = $1 AND id = ANY($2)", tenant_id, ids
    )
    return {r["id"]: _row(r) for r in rows}


async def with_training(
    conn: asyncpg.Connection, tenant_id: str, interview_type: str
) -> dict[str, InterviewerRow]:
    """Interviewers in training (shadow / reverse shadow) for ``interview_type``."""
    rows = await conn.fetch(
        "SELECT * FROM interviewers WHERE tenant_id = $1 AND training ? $2", tenant_id, interview_type
    )
    return {r["id"]: _row(r) for r in rows}


async def with_external_calendars(
    conn: asyncpg.Connection, tenant_id: str | None, ids: list[str] | None = None
) -> list[tuple[str, InterviewerRow]]:
    """(tenant, interviewer) pairs whose calendar is read from a vendor; all tenants when tenant_id is None
    (the caller then runs in a system transaction)."""
    rows = await conn.fetch(
        """SELECT * FROM interviewers WHERE calendar->>'kind' = ANY($1)
             AND ($2::text IS NULL OR tenant_id = $2) AND ($3::text[] IS NULL OR id = ANY($3))
           ORDER BY tenant_id, id""",
        list(EXTERNAL_SOURCES),
        tenant_id,
        ids,
    )
    return [(r["tenant_id"], _row(r)) for r in rows]


async def replace_busy(
    conn: asyncpg.Connection,
    tenant_id: str,
    interviewer_id: str,
    source: str,
    window: tuple[datetime, datetime],
    busy: list[tuple[datetime, datetime]],
) -> int:
    """Replace the blocks of one source inside `window` (a calendar refresh) and mark the calendar known."""
    w = Range(window[0], window[1])
    await conn.execute(
        """DELETE FROM busy_blocks WHERE tenant_id = $1 AND interviewer_id = $2 AND source = $3
           AND during && $4""",
        tenant_id,
        interviewer_id,
        source,
        w,
    )
    await conn.executemany(
        """INSERT INTO busy_blocks (tenant_id, interviewer_id, source, during) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING""",
        [(tenant_id, interviewer_id, source, Range(s, e)) for s, e in busy if e > s],
    )
    await conn.execute(
        """UPDATE interviewers
           SET calendar_status = 'known', calendar_reason = '', calendar_checked_at = now()
           WHERE tenant_id = $1 AND id = $2""",
        tenant_id,
        interviewer_id,
    )
    return len(busy)


async def mark_unknown(conn: asyncpg.Connection, tenant_id: str, interviewer_id: str, reason: str) -> None:
    await conn.execute(
        """UPDATE interviewers
           SET calendar_status = 'unknown', calendar_reason = $3, calendar_checked_at = now()
           WHERE tenant_id = $1 AND id = $2""",
        tenant_id,
        interviewer_id,
        reason[:500],
    )


async def busy_blocks(
    conn: asyncpg.Connection, tenant_id: str, ids: list[str], start: datetime, end: datetime
) -> dict[str, list[tuple[datetime, datetime]]]:
    """Calendar busy blocks (every source) per interviewer overlapping [start, end)."""
    rows = await conn.fetch(
        """SELECT interviewer_id, during FROM busy_blocks
           WHERE tenant_id = $1 AND interviewer_id = ANY($2) AND during && $3""",
        tenant_id,
        ids,
        Range(start, end),
    )
    out: dict[str, list[tuple[datetime, datetime]]] = {i: [] for i in ids}
    for r in rows:
        out[r["interviewer_id"]].append((r["during"].lower, r["during"].upper))
    return out
