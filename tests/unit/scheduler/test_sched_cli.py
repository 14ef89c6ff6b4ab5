"""`interloop slots`: offline slots from real .ics files: DST, recurrence exceptions, all-day, floating,
buffers, min-free, table output and one-line errors with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from interloop_scheduler.cli import register
from typer.testing import CliRunner

HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//interloop//test//EN\r\n"
TAIL = "END:VCALENDAR\r\n"


def ics(*events: str) -> str:
    return HEAD + "".join(events) + TAIL


def event(uid: str, start: str, end: str, *extra: str) -> str:
    lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z", start, end, *extra, "END:VEVENT"]
    return "\r\n".join(lines) + "\r\n"


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.ics"
    path.write_text(text)
    return path


def run(app: typer.Typer, *args: str) -> dict:
    res = CliRunner().invoke(app, ["slots", *args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def starts(out: dict) -> list[str]:
    return [s["start"] for s in out["slots"]]


def test_new_york_dst_week_keeps_nine_local_on_both_sides(app: typer.Typer, tmp_path: Path) -> None:
    a = write(tmp_path, "A", ics())
    out = run(
        app,
        "--calendar",
        str(a),
        "--from",
        "2026-03-06",
        "--to",
        "2026-03-10",
        "--tz",
        "America/New_York",
        "--duration",
        "60",
        "--working-hours",
        "09:00-10:00",
    )
    assert starts(out) == ["2026-03-06T09:00:00-05:00", "2026-03-09T09:00:00-04:00"]
    assert out["slots"][1]["end"] == "2026-03-09T10:00:00-04:00"


def test_london_dst_week_and_weekend_days(app: typer.Typer, tmp_path: Path) -> None:
    a = write(tmp_path, "A", ics())
    out = run(
        app,
        "--calendar",
        str(a),
        "--from",
        "2026-03-28",
        "--to",
        "2026-03-31",
        "--tz",
        "Europe/London",
        "--duration",
        "30",
        "--working-hours",
        "09:00-09:30",
        "--weekdays",
        "sat,sun,mon",
    )
    assert starts(out) == [
        "2026-03-28T09:00:00+00:00",
        "2026-03-29T09:00:00+01:00",
        "2026-03-30T09:00:00+01:00",
    ]


def test_recurrence_exdate_moved_and_cancelled_occurrences(app: typer.Typer, tmp_path: Path) -> None:
    series = event(
        "daily",
        "DTSTART;TZID=America/New_York:20260302T090000",
        "DTEND;TZID=America/New_York:20260302T100000",
        "RRULE:FREQ=DAILY;COUNT=5",
        "EXDATE;TZID=America/New_York:20260303T090000",
    )
    moved = event(
        "daily",
        "DTSTART;TZID=America/New_York:20260304T110000",
        "DTEND;TZID=America/New_York:20260304T120000",
        "RECURRENCE-ID;TZID=America/New_York:20260304T090000",
    )
    cancelled = event(
        "daily",
        "DTSTART;TZID=America/New_York:20260305T090000",
        "DTEND;TZID=America/New_York:20260305T100000",
        "RECURRENCE-ID;TZID=America/New_York:20260305T090000",
        "STATUS:CANCELLED",
    )
    a = write(tmp_path, "A", ics(series, moved, cancelled))
    out = run(
        app,
        "--calendar",
        str(a),
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-07",
        "--tz",
        "America/New_York",
        "--duration",
        "60",
        "--working-hours",
        "09:00-12:00",
        "--step",
        "60",
    )
    by_day: dict[str, list[str]] = {}
    for s in starts(out):
        by_day.setdefault(s[:10], []).append(s[11:16])
    assert by_day == {
        "2026-03-02": ["10:00", "11:00"],  # the series
        "2026-03-03": ["09:00", "10:00", "11:00"],  # EXDATE
        "2026-03-04": ["09:00", "10:00"],  # moved to 11:00
        "2026-03-05": ["09:00", "10:00", "11:00"],  # cancelled occurrence
        "2026-03-06": ["10:00", "11:00"],
    }


def test_all_day_transparent_floating_and_freebusy(app: typer.Typer, tmp_path: Path) -> None:
    allday = event("off", "DTSTART;VALUE=DATE:20260303", "DTEND;VALUE=DATE:20260304")
    transparent = event("t", "DTSTART:20260302T140000Z", "DTEND:20260302T220000Z", "TRANSP:TRANSPARENT")
    floating = event("f", "DTSTART:20260302T090000", "DTEND:20260302T100000")  # read in --tz
    fb = (
        "BEGIN:VFREEBUSY\r\nUID:fb\r\nDTSTAMP:20260101T000000Z\r\n"
        "FREEBUSY;FBTYPE=BUSY:20260304T140000Z/PT1H\r\nFREEBUSY;FBTYPE=FREE:20260304T150000Z/PT1H\r\n"
        "END:VFREEBUSY\r\n"
    )
    a = write(tmp_path, "A", ics(allday, transparent, floating, fb))
    out = run(
        app,
        "--calendar",
        str(a),
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-05",
        "--tz",
        "America/New_York",
        "--duration",
        "60",
        "--working-hours",
        "09:00-11:00",
        "--step",
        "60",
    )
    assert starts(out) == ["2026-03-02T10:00:00-05:00", "2026-03-04T10:00:00-05:00"]


def test_buffer_widens_busy_blocks_and_touching_is_free(app: typer.Typer, tmp_path: Path) -> None:
    a = write(
        tmp_path, "A", ics(event("m", "DTSTART:20260302T150000Z", "DTEND:20260302T160000Z"))
    )  # 10-11 NY
    args = [
        "--calendar",
        str(a),
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-03",
        "--tz",
        "America/New_York",
        "--duration",
        "60",
        "--working-hours",
        "09:00-12:00",
        "--step",
        "15",
    ]
    assert [s[11:16] for s in starts(run(app, *args))] == ["09:00", "11:00"]
    assert [s[11:16] for s in starts(run(app, *args, "--buffer", "15"))] == []
    assert [
        s[11:16] for s in starts(run(app, *args, "--working-hours", "08:45-12:15", "--buffer", "15"))
    ] == ["08:45", "11:15"]


def test_min_free_names_who_is_available(app: typer.Typer, tmp_path: Path) -> None:
    a = write(tmp_path, "A", ics(event("m", "DTSTART:20260302T140000Z", "DTEND:20260302T150000Z")))  # 9-10 NY
    b = write(
        tmp_path, "B", ics(event("n", "DTSTART:20260302T150000Z", "DTEND:20260302T160000Z"))
    )  # 10-11 NY
    args = [
        "--calendar",
        str(a),
        "--calendar",
        str(b),
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-03",
        "--tz",
        "America/New_York",
        "--duration",
        "60",
        "--working-hours",
        "09:00-12:00",
        "--step",
        "60",
    ]
    assert run(app, *args)["slots"] == [
        {"start": "2026-03-02T11:00:00-05:00", "end": "2026-03-02T12:00:00-05:00", "available": ["A", "B"]}
    ]
    assert [(s["start"][11:16], s["available"]) for s in run(app, *args, "--min-free", "1")["slots"]] == [
        ("09:00", ["B"]),
        ("10:00", ["A"]),
        ("11:00", ["A", "B"]),
    ]


def test_table_output(app: typer.Typer, tmp_path: Path) -> None:
    a = write(tmp_path, "A", ics())
    res = CliRunner().invoke(
        app,
        [
            "slots",
            "--calendar",
            str(a),
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-03",
            "--tz",
            "UTC",
            "--duration",
            "60",
            "--working-hours",
            "09:00-10:00",
        ],
    )
    assert res.exit_code == 0
    assert "2026-03-02T09:00:00+00:00" in res.stdout and "START" in res.stdout


@pytest.mark.parametrize(
    "change",
    [
        {"--calendar": "missing.ics"},
        {"--calendar": "bad.ics"},
        {"--tz": "Mars/Olympus"},
        {"--to": "2026-03-02"},
        {"--working-hours": "17:00-09:00"},
        {"--working-hours": "nine to five"},
        {"--min-free": "3"},
        {"--weekdays": "mon-funday"},
        {"--from": "March"},
    ],
)
def test_bad_input_is_one_line_and_exit_2(app: typer.Typer, tmp_path: Path, change: dict[str, str]) -> None:
    write(tmp_path, "A", ics())
    (tmp_path / "bad.ics").write_text("this is not a calendar")
    opts = {
        "--calendar": "A.ics",
        "--from": "2026-03-02",
        "--to": "2026-03-03",
        "--tz": "America/New_York",
        "--duration": "60",
        **change,
    }
    if opts["--calendar"] in {"A.ics", "bad.ics", "missing.ics"}:
        opts["--calendar"] = str(tmp_path / opts["--calendar"])
    res = CliRunner().invoke(app, ["slots", *[x for kv in opts.items() for x in kv], "--json"])
    assert res.exit_code == 2
    assert res.stdout == ""
    assert len(res.stderr.strip().splitlines()) == 1
