"""Offline subcommands of the `interloop` CLI contributed by this service.

`interloop slots` finds common free slots in exported calendars (.ics files), for coordinators who
want an answer without the service: the same availability engine the service uses, fed from files."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

import typer

from interloop_scheduler.domain.availability import SlotRules, find_slots, k_of, working_intervals
from interloop_scheduler.domain.availability import epoch as _epoch
from interloop_scheduler.domain.availability import from_epoch as _from_epoch
from interloop_scheduler.domain.ics import CalendarParseError, busy_from_ics
from interloop_scheduler.domain.model import WEEKDAYS, Interviewer, SchedulingError, weekday_hours, zone


class _BadInput(Exception):
    """One line for stderr; the command exits with status 2."""


def parse_weekdays(text: str) -> tuple[int, ...]:
    """'mon-fri', 'mon,wed,fri', 'sat-mon' (wraps) -> sorted weekday numbers (0 = Monday)."""
    days: set[int] = set()
    for part in text.lower().split(","):
        part = part.strip()
        ends = [p.strip()[:3] for p in part.split("-")]
        if not part or len(ends) > 2 or any(e not in WEEKDAYS for e in ends):
            raise _BadInput(f"--weekdays: {text!r} is not a day list like 'mon-fri' or 'mon,wed,fri'")
        first, last = WEEKDAYS.index(ends[0]), WEEKDAYS.index(ends[-1])
        span = (last - first) % 7
        days.update((first + i) % 7 for i in range(span + 1))
    return tuple(sorted(days))


_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_working_hours(text: str) -> tuple[time, time]:
    """'09:00-17:00' -> (09:00, 17:00); an end of 24:00 is midnight at the day's end (time(0))."""
    m = _HOURS.match(text)
    bad = _BadInput(f"--working-hours: {text!r} is not HH:MM-HH:MM with the start before the end")
    if not m:
        raise bad
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        raise bad
    start, end_minutes = time(h1, m1), h2 * 60 + m2
    if end_minutes <= h1 * 60 + m1:
        raise bad
    return start, (time(0) if end_minutes == 24 * 60 else time(h2, m2))


def _parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _BadInput(f"{option}: {text!r} is not a date like 2026-03-02") from None


def compute_slots(
    calendars: list[Path],
    start_day: date,
    end_day: date,
    tz_name: str,
    duration: int,
    working_hours: str = "09:00-17:00",
    weekdays: str = "mon-fri",
    buffer: int = 0,
    step: int = 30,
    min_free: int | None = None,
) -> list[dict[str, object]]:
    """The `slots` command without the terminal: raises ``_BadInput`` on bad input."""
    try:
        tz = zone(tz_name, "--tz")
    except SchedulingError as exc:
        raise _BadInput(str(exc)) from None
    if start_day >= end_day:
        raise _BadInput(f"--from {start_day} must be before --to {end_day}")
    if duration <= 0:
        raise _BadInput(f"--duration: must be a positive number of minutes, got {duration}")
    if step <= 0:
        raise _BadInput(f"--step: must be a positive number of minutes, got {step}")
    if buffer < 0:
        raise _BadInput(f"--buffer: must be zero or more minutes, got {buffer}")
    if not calendars:
        raise _BadInput("--calendar: give at least one .ics file")
    hours = parse_working_hours(working_hours)
    days = parse_weekdays(weekdays)
    n = len(calendars)
    needed = n if min_free is None else min_free
    if not 0 <= needed <= n:
        raise _BadInput(f"--min-free: must be between 0 and the number of calendars ({n}), got {min_free}")
    window = (datetime.combine(start_day, time(0), tzinfo=tz), datetime.combine(end_day, time(0), tzinfo=tz))
    pad = timedelta(minutes=buffer)
    busy = {}
    interviewers = []
    for path in calendars:
        name = path.stem
        if name in busy:
            raise _BadInput(
                f"--calendar {path}: another calendar is also named {name!r} (names come from file stems)"
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise _BadInput(f"--calendar {path}: cannot read ({exc.strerror or exc})") from None
        try:
            busy[name] = busy_from_ics(data, window[0] - pad, window[1] + pad, tz)
        except CalendarParseError as exc:
            raise _BadInput(f"--calendar {path}: {' '.join(str(exc).split())}") from None
        interviewers.append(Interviewer(id=name, zone=tz_name, working_hours=weekday_hours(*hours, days)))
    # the slot must fit that day's working hours even when nobody needs to be free (--min-free 0)
    day_windows = [
        (_from_epoch(a), _from_epoch(b))
        for a, b in working_intervals(interviewers[0], (_epoch(window[0]), _epoch(window[1])))
    ]
    rules = SlotRules(
        duration=timedelta(minutes=duration),
        step=timedelta(minutes=step),
        buffer_before=pad,
        buffer_after=pad,
        candidate_zone=tz_name,
        align_to=hours[0],
    )
    result = find_slots(
        interviewers=interviewers,
        requirements=[k_of(needed, *sorted(busy))],
        busy=busy,
        window=window,
        now=window[0],
        rules=rules,
        candidate_windows=day_windows,
    )
    return [
        {"start": s.start.isoformat(), "end": s.end.isoformat(), "available": list(s.interviewers)}
        for s in result.slots
    ]


def register(app: typer.Typer) -> None:
    """Attach this service's subcommands to the top-level `interloop` app."""
    if app.registered_callback is None:
        # keeps `slots` a subcommand even when it is the app's only command (typer would collapse it)
        app.callback()(lambda: None)

    @app.command("slots")
    def slots(
        calendar: list[Path] = typer.Option(
            [], "--calendar", help="an exported calendar (.ics); repeat for each"
        ),
        from_: str = typer.Option(..., "--from", help="first local date (inclusive), e.g. 2026-03-02"),
        to: str = typer.Option(..., "--to", help="last local date (exclusive)"),
        tz: str = typer.Option(..., "--tz", help="IANA zone the dates and working hours are in"),
        duration: int = typer.Option(..., "--duration", help="minutes"),
        working_hours: str = typer.Option("09:00-17:00", "--working-hours", help="HH:MM-HH:MM, local"),
        weekdays: str = typer.Option("mon-fri", "--weekdays", help="e.g. mon-fri or mon,wed,fri"),
        buffer: int = typer.Option(0, "--buffer", help="minutes kept free around every busy block"),
        step: int = typer.Option(
            30, "--step", help="minutes between slot starts, from the working-hours start"
        ),
        min_free: int | None = typer.Option(
            None, "--min-free", help="calendars that must be free (default: all)"
        ),
        as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    ) -> None:
        """Common free slots across exported calendars, offline."""
        try:
            found = compute_slots(
                calendar,
                _parse_date(from_, "--from"),
                _parse_date(to, "--to"),
                tz,
                duration,
                working_hours,
                weekdays,
                buffer,
                step,
                min_free,
            )
        except (_BadInput, SchedulingError) as exc:
            typer.echo(" ".join(str(exc).split()), err=True)
            raise typer.Exit(2) from None
        if as_json:
            typer.echo(json.dumps({"slots": found}))
            return
        if not found:
            typer.echo("no slots")
            return
        width = max(len(str(s["start"])) for s in found)
        typer.echo(f"{'START':<{width}}  {'END':<{width}}  AVAILABLE")
        for s in found:
            typer.echo(f"{s['start']:<{width}}  {s['end']:<{width}}  {', '.join(s['available'])}")  # type: ignore[arg-type]
