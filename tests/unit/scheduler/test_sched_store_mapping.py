"""Stored interviewer profiles and API messages -> the domain model (no database, no network)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from interloop.scheduler.v1 import scheduler_pb2 as pb
from interloop_common.rpc import FieldViolations, ts
from interloop_scheduler.domain.availability import rules_from
from interloop_scheduler.domain.model import Stage, Unknown
from interloop_scheduler.rpc import mapping
from interloop_scheduler.store.interviewers import InterviewerRow, busy_map, parse_clock, to_domain
from interloop_scheduler.store.links import requirements


def row(**kw: object) -> InterviewerRow:
    base = dict(
        id="ada",
        email="ada@x.test",
        display_name="Ada",
        time_zone="Europe/London",
        working_hours=[
            {"weekday": 1, "start": "09:00", "end": "12:00"},
            {"weekday": 1, "start": "13:00", "end": "17:00"},
            {"weekday": 7, "start": "20:00", "end": "24:00"},
        ],
        daily_cap=0,
        weekly_cap=3,
    )
    base.update(kw)
    return InterviewerRow(**base)  # type: ignore[arg-type]


def test_working_hours_weekdays_caps_and_midnight() -> None:
    i = to_domain(row())
    assert i.working_hours == {0: ((time(9), time(12)), (time(13), time(17))), 6: ((time(20), time(0)),)}
    assert i.daily_cap is None and i.weekly_cap == 3 and i.zone == "Europe/London" and i.name == "Ada"


def test_overrides_out_of_office_and_training() -> None:
    i = to_domain(
        row(
            overrides={"2027-03-09": [{"start": "10:00", "end": "11:00"}], "2027-03-10": []},
            out_of_office=[{"start": "2027-03-11T00:00:00+00:00", "end": "2027-03-12T00:00:00+00:00"}],
            training={"coding": "shadow", "design": "reverse_shadow"},
            interview_types=["values"],
        )
    )
    assert i.overrides == {date(2027, 3, 9): ((time(10), time(11)),), date(2027, 3, 10): ()}
    assert i.out_of_office == ((datetime(2027, 3, 11, tzinfo=UTC), datetime(2027, 3, 12, tzinfo=UTC)),)
    assert i.stage_for("coding") is Stage.SHADOW and i.stage_for("design") is Stage.REVERSE_SHADOW
    assert i.stage_for("values") is Stage.TRAINED and i.stage_for("other") is None


def test_unknown_or_unread_calendar_is_never_free() -> None:
    rows = {"a": row(id="a"), "b": row(id="b", calendar_status="unknown", calendar_reason="google: HTTP 503")}
    blocks = {"a": [(datetime(2027, 1, 1, 9, tzinfo=UTC), datetime(2027, 1, 1, 10, tzinfo=UTC))]}
    got = busy_map(rows, blocks)
    assert got["a"] == blocks["a"] and got["b"] == Unknown("google: HTTP 503")


@pytest.mark.parametrize("text", ["9", "25:00", "12:60", "ab:cd"])
def test_bad_clock_names_the_field(text: str) -> None:
    with pytest.raises(ValueError, match="working_hours"):
        parse_clock(text, "working_hours[0].start")


def test_interviewer_message_validation_reports_every_field() -> None:
    bad = pb.Interviewer(
        id="x",
        email="nope",
        time_zone="Mars/Base",
        overrides=[pb.DateOverride(date="2027-13-01")],
        training=[pb.Training(interview_type="coding")],
        calendar=pb.CalendarSource(kind="ics"),
    )
    with pytest.raises(FieldViolations) as err:
        mapping.interviewer_row(bad)
    fields = {f for f, _ in err.value.violations}
    assert fields == {
        "interviewer.email",
        "interviewer.time_zone",
        "interviewer.overrides[0].date",
        "interviewer.training[0].stage",
        "interviewer.calendar.url",
    }


def test_interviewer_message_round_trip_hides_the_credential() -> None:
    msg = pb.Interviewer(
        id="ada",
        email="ada@x.test",
        time_zone="UTC",
        working_hours=[pb.WorkingHours(weekday=1, start="09:00", end="24:00")],
        out_of_office=[
            {"start": ts(datetime(2027, 1, 1, tzinfo=UTC)), "end": ts(datetime(2027, 1, 2, tzinfo=UTC))}
        ],
        training=[
            pb.Training(interview_type="coding", stage=pb.TRAINING_STAGE_REVERSE_SHADOW),
            pb.Training(interview_type="values", stage=pb.TRAINING_STAGE_TRAINED),
        ],
        calendar=pb.CalendarSource(kind="google", credential="secret-token"),
    )
    stored = mapping.interviewer_row(msg)
    assert stored.calendar == {
        "kind": "google",
        "calendar_id": "ada@x.test",
        "url": "https://www.googleapis.com/calendar/v3",
        "credential": "secret-token",
        "user": "",
    }
    assert stored.training == {"coding": "reverse_shadow"} and stored.interview_types == ["values"]
    out = mapping.interviewer_pb(stored)
    assert out.calendar.kind == "google" and out.calendar.credential == ""
    assert [(t.interview_type, t.stage) for t in out.training] == [
        ("coding", pb.TRAINING_STAGE_REVERSE_SHADOW)
    ]


def test_panel_requirements_and_link_rules() -> None:
    panel = mapping.panel_dicts(
        [
            pb.PanelRequirement(interviewer_ids=["hm"]),
            pb.PanelRequirement(interviewer_ids=["a", "b", "c"], k=2),
        ]
    )
    reqs = requirements(panel)
    assert [(r.pool, r.needed) for r in reqs] == [(("hm",), 1), (("a", "b", "c"), 2)]
    with pytest.raises(FieldViolations):
        mapping.panel_dicts([pb.PanelRequirement(interviewer_ids=["a"], k=2)])
    with pytest.raises(FieldViolations):
        mapping.panel_dicts(
            [pb.PanelRequirement(interviewer_ids=["a"]), pb.PanelRequirement(interviewer_ids=["a"])]
        )
    rules = rules_from({"step_minutes": 15, "min_notice_minutes": 60}, 45, "Asia/Tokyo", 14)
    assert rules.duration == timedelta(minutes=45) and rules.step == timedelta(minutes=15)
    assert rules.min_notice == timedelta(hours=1) and rules.horizon == timedelta(days=14)
    assert rules.candidate_zone == "Asia/Tokyo"
