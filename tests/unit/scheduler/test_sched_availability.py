"""Panel availability: DST, cross-zone panels, k-of-n, buffers, caps, notice, horizon, holds, unknown."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from interloop_scheduler.domain.availability import SlotRules, all_of, find_slots, k_of
from interloop_scheduler.domain.model import (
    Booking,
    Hold,
    Interviewer,
    SchedulingError,
    Unknown,
    weekday_hours,
)

NY, LON, TYO = ZoneInfo("America/New_York"), ZoneInfo("Europe/London"), ZoneInfo("Asia/Tokyo")
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)


def person(pid: str, tz: str, start: int = 9, end: int = 17, **kw: object) -> Interviewer:
    return Interviewer(id=pid, zone=tz, working_hours=weekday_hours(time(start), time(end), EVERY_DAY), **kw)


def at(tz: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=tz)


def rules(minutes: int = 60, step: int = 30, tz: str = "America/New_York", **kw: object) -> SlotRules:
    return SlotRules(
        duration=timedelta(minutes=minutes), step=timedelta(minutes=step), candidate_zone=tz, **kw
    )


FAR_PAST = datetime(2026, 1, 1, tzinfo=UTC)


def local_starts(slots: list, tz: ZoneInfo) -> list[str]:
    return [s.start.astimezone(tz).strftime("%m-%d %H:%M") for s in slots]


@pytest.mark.parametrize(
    ("tz", "days"),
    [
        (NY, (date(2026, 3, 6), date(2026, 3, 9))),  # US spring forward on Sunday 8 March
        (LON, (date(2026, 3, 27), date(2026, 3, 30))),  # UK spring forward on Sunday 29 March
    ],
)
def test_nine_local_on_both_sides_of_dst(tz: ZoneInfo, days: tuple[date, date]) -> None:
    p = Interviewer(id="p", zone=tz.key, working_hours=weekday_hours(time(9), time(10)))
    res = find_slots(
        interviewers=[p],
        requirements=[all_of("p")],
        busy={},
        now=FAR_PAST,
        window=(at(tz, 2026, 3, 1), at(tz, 2026, 4, 1)),
        rules=rules(tz=tz.key),
    )
    nine = [s.start for s in res.slots if s.start.date() in days]
    assert [(s.hour, s.minute) for s in nine] == [(9, 0), (9, 0)]
    assert nine[0].utcoffset() != nine[1].utcoffset()


def test_cross_zone_panel_new_york_london_tokyo() -> None:
    # NY 07-17 EST (12-22 UTC), London 08-18 GMT (08-18 UTC), Tokyo 21-24 JST (12-15 UTC): overlap 12-15 UTC
    panel = [
        person("ny", "America/New_York", 7, 17),
        person("lon", "Europe/London", 8, 18),
        Interviewer(id="tyo", zone="Asia/Tokyo", working_hours=weekday_hours(time(21), time(0), EVERY_DAY)),
    ]
    res = find_slots(
        interviewers=panel,
        requirements=[all_of("ny", "lon", "tyo")],
        busy={},
        now=FAR_PAST,
        window=(at(UTC, 2026, 3, 3), at(UTC, 2026, 3, 4)),
        rules=rules(step=60, tz="UTC"),
    )
    assert [s.start.hour for s in res.slots] == [12, 13, 14]
    assert res.slots[0].available == (("lon", "ny", "tyo"),)


def test_k_of_n_and_mixed_requirements_name_who_is_free() -> None:
    panel = [person(x, "UTC") for x in ("a", "b", "c", "hm")]
    busy = {
        "a": [(at(UTC, 2026, 3, 2, 9), at(UTC, 2026, 3, 2, 10))],
        "b": [(at(UTC, 2026, 3, 2, 9), at(UTC, 2026, 3, 2, 11))],
        "hm": [(at(UTC, 2026, 3, 2, 12), at(UTC, 2026, 3, 2, 13))],
    }
    window = (at(UTC, 2026, 3, 2, 9), at(UTC, 2026, 3, 2, 14))
    res = find_slots(
        interviewers=panel,
        requirements=[k_of(2, "a", "b", "c"), all_of("hm")],
        busy=busy,
        now=FAR_PAST,
        window=window,
        rules=rules(step=60, tz="UTC"),
    )
    assert [(s.start.hour, s.available) for s in res.slots] == [
        (10, (("a", "c"), ("hm",))),
        (11, (("a", "b", "c"), ("hm",))),
        (13, (("a", "b", "c"), ("hm",))),
    ]


def test_k_of_n_needs_the_same_people_for_the_whole_slot() -> None:
    # a is free 9-10, b 10-11: someone is always free, but nobody for a whole 9:30-10:30
    panel = [person("a", "UTC", 9, 10), person("b", "UTC", 10, 11)]
    res = find_slots(
        interviewers=panel,
        requirements=[k_of(1, "a", "b")],
        busy={},
        now=FAR_PAST,
        window=(at(UTC, 2026, 3, 2), at(UTC, 2026, 3, 3)),
        rules=rules(tz="UTC"),
    )
    assert [(s.start.strftime("%H:%M"), s.available) for s in res.slots] == [
        ("09:00", (("a",),)),
        ("10:00", (("b",),)),
    ]


def test_booking_blocks_its_own_buffers_plus_the_new_events() -> None:
    p = person("p", "UTC")
    booking = Booking(
        "b1",
        ("p",),
        at(UTC, 2026, 3, 2, 12),
        at(UTC, 2026, 3, 2, 13),
        buffer_before=timedelta(minutes=15),
        buffer_after=timedelta(minutes=15),
    )
    r = rules(step=15, tz="UTC", buffer_before=timedelta(minutes=15), buffer_after=timedelta(minutes=15))
    res = find_slots(
        interviewers=[p],
        requirements=[all_of("p")],
        busy={},
        bookings=[booking],
        now=FAR_PAST,
        window=(at(UTC, 2026, 3, 2, 10), at(UTC, 2026, 3, 2, 15)),
        rules=r,
    )
    # blocked for starts in (10:30, 13:30): ends must be <= 11:30, starts >= 13:30
    assert local_starts(res.slots, UTC) == [
        "03-02 10:00",
        "03-02 10:15",
        "03-02 10:30",
        "03-02 13:30",
        "03-02 13:45",
        "03-02 14:00",
    ]


def test_daily_and_weekly_caps_count_in_the_interviewers_local_day() -> None:
    # Tokyo interviewer; a booking at 23:30 UTC Monday is Tuesday morning in Tokyo
    p = Interviewer(
        id="p", zone="Asia/Tokyo", working_hours=weekday_hours(time(8), time(18), EVERY_DAY), daily_cap=1
    )
    booking = Booking("b", ("p",), at(UTC, 2026, 3, 2, 23, 30), at(UTC, 2026, 3, 3, 0, 30))
    window = (at(TYO, 2026, 3, 2), at(TYO, 2026, 3, 5))
    res = find_slots(
        interviewers=[p],
        requirements=[all_of("p")],
        busy={},
        bookings=[booking],
        now=FAR_PAST,
        window=window,
        rules=rules(step=600, tz="Asia/Tokyo", align_to=time(8)),
    )
    assert local_starts(res.slots, TYO) == ["03-02 08:00", "03-04 08:00"]  # Tuesday (3rd) is capped
    weekly = Interviewer(id="p", zone="Asia/Tokyo", working_hours=p.working_hours, weekly_cap=2)
    two = [booking, Booking("c", ("p",), at(TYO, 2026, 3, 6, 9), at(TYO, 2026, 3, 6, 10))]
    res = find_slots(
        interviewers=[weekly],
        requirements=[all_of("p")],
        busy={},
        bookings=two,
        now=FAR_PAST,
        window=(at(TYO, 2026, 3, 7), at(TYO, 2026, 3, 10)),
        rules=rules(step=600, tz="Asia/Tokyo", align_to=time(8)),
    )
    assert local_starts(res.slots, TYO) == ["03-09 08:00"]  # Sat+Sun in the capped ISO week; Monday is free


def test_min_notice_and_horizon() -> None:
    p = person("p", "UTC")
    now = at(UTC, 2026, 3, 2, 9, 10)
    res = find_slots(
        interviewers=[p],
        requirements=[all_of("p")],
        busy={},
        now=now,
        window=(at(UTC, 2026, 3, 2), at(UTC, 2026, 3, 10)),
        rules=rules(tz="UTC", min_notice=timedelta(hours=2), horizon=timedelta(days=1, hours=1)),
    )
    assert res.slots[0].start == at(UTC, 2026, 3, 2, 11, 30)  # 9:10 + 2h, on the half-hour grid
    assert res.slots[-1].start == at(UTC, 2026, 3, 3, 9, 0)  # ends 10:00 <= 10:10 next day


def test_holds_are_busy_for_everyone_else() -> None:
    p = person("p", "UTC", 9, 11)
    hold = Hold("h1", "request-1", ("p",), at(UTC, 2026, 3, 2, 9), at(UTC, 2026, 3, 2, 10))
    kw = dict(
        interviewers=[p],
        requirements=[all_of("p")],
        busy={},
        holds=[hold],
        now=FAR_PAST,
        window=(at(UTC, 2026, 3, 2), at(UTC, 2026, 3, 3)),
        rules=rules(step=60, tz="UTC"),
    )
    assert [s.start.hour for s in find_slots(**kw, hold_key="request-2").slots] == [10]
    assert [s.start.hour for s in find_slots(**kw, hold_key="request-1").slots] == [9, 10]


def test_unknown_calendar_is_never_free_and_is_reported() -> None:
    panel = [person("a", "UTC"), person("b", "UTC"), person("c", "UTC")]
    busy = {"b": Unknown("google: 503 after retries")}
    window = (at(UTC, 2026, 3, 2, 9), at(UTC, 2026, 3, 2, 11))
    res = find_slots(
        interviewers=panel,
        requirements=[all_of("a", "b")],
        busy=busy,
        now=FAR_PAST,
        window=window,
        rules=rules(tz="UTC"),
    )
    assert res.slots == [] and res.unknown == ("b",) and "b (google: 503" in res.reason
    res = find_slots(
        interviewers=panel,
        requirements=[k_of(1, "a", "b", "c")],
        busy=busy,
        now=FAR_PAST,
        window=window,
        rules=rules(tz="UTC"),
    )
    assert res.slots and all("b" not in s.interviewers for s in res.slots) and res.unknown == ("b",)


def test_overrides_and_out_of_office() -> None:
    p = Interviewer(
        id="p",
        zone="Europe/London",
        working_hours=weekday_hours(time(9), time(10)),
        overrides={date(2026, 3, 3): (), date(2026, 3, 7): ((time(14), time(15)),)},
        out_of_office=((at(LON, 2026, 3, 4), at(LON, 2026, 3, 5)),),
    )
    res = find_slots(
        interviewers=[p],
        requirements=[all_of("p")],
        busy={},
        now=FAR_PAST,
        window=(at(LON, 2026, 3, 2), at(LON, 2026, 3, 8)),
        rules=rules(tz="Europe/London"),
    )
    assert local_starts(res.slots, LON) == ["03-02 09:00", "03-05 09:00", "03-06 09:00", "03-07 14:00"]


def test_slot_grid_is_aligned_in_the_candidates_zone() -> None:
    # Kolkata is UTC+05:30: an interviewer free on the UTC hour gives candidate slots at :00/:30 local
    p = person("p", "UTC", 9, 12)
    res = find_slots(
        interviewers=[p],
        requirements=[all_of("p")],
        busy={},
        now=FAR_PAST,
        window=(at(UTC, 2026, 3, 2), at(UTC, 2026, 3, 3)),
        rules=rules(step=60, tz="Asia/Kolkata"),
    )
    assert [s.start.strftime("%H:%M%z") for s in res.slots] == ["15:00+0530", "16:00+0530"]


def test_errors_name_the_field() -> None:
    with pytest.raises(SchedulingError) as err:
        find_slots(
            interviewers=[person("p", "UTC")],
            requirements=[all_of("p", "ghost")],
            busy={},
            now=FAR_PAST,
            window=(at(UTC, 2026, 3, 2), at(UTC, 2026, 3, 3)),
            rules=rules(tz="UTC"),
        )
    assert err.value.field == "requirements[0].pool"
    with pytest.raises(SchedulingError, match="zone"):
        find_slots(
            interviewers=[person("p", "Nowhere/City")],
            requirements=[all_of("p")],
            busy={},
            now=FAR_PAST,
            window=(at(UTC, 2026, 3, 2), at(UTC, 2026, 3, 3)),
            rules=rules(tz="UTC"),
        )
