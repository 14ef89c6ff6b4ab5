"""The rules every new booking keeps (policy.check_placements) and what caps mean for availability and
loop plans: holds count against caps, buffers are part of an overlap, a loop's own sessions share caps."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from interloop_scheduler.domain.availability import SlotRules, all_of, find_slots
from interloop_scheduler.domain.loops import Loop, LoopRules, Session, plan_loop
from interloop_scheduler.domain.model import Booking, Hold, Interviewer, Unknown, weekday_hours
from interloop_scheduler.domain.policy import OVERRIDABLE, Placement, check_placements

MON = datetime(2027, 3, 1, tzinfo=UTC)  # a Monday
NOW = MON - timedelta(days=1)
H = timedelta(hours=1)


def amy(**kw: object) -> Interviewer:
    return Interviewer(id="amy", zone="UTC", working_hours=weekday_hours(time(9), time(17)), **kw)


def at(hour: float, day: int = 0) -> datetime:
    return MON + timedelta(days=day, minutes=int(hour * 60))


def rules_broken(placements: list[Placement], people: list[Interviewer], **kw: object) -> list[str]:
    found = check_placements(
        placements,
        {p.id: p for p in people},
        kw.pop("busy", {}),  # type: ignore[arg-type]
        kw.pop("bookings", []),  # type: ignore[arg-type]
        kw.pop("holds", []),  # type: ignore[arg-type]
        kw.pop("now", NOW),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )
    return [v.rule for v in found]


def test_a_clean_placement_breaks_nothing() -> None:
    assert rules_broken([Placement(("amy",), at(10), at(11))], [amy()]) == []


def test_working_hours_busy_out_of_office_and_unknown_calendars_are_named() -> None:
    early = Placement(("amy",), at(8), at(9))
    assert rules_broken([early], [amy()]) == ["working_hours"]
    busy = {"amy": [(at(10.75), at(11.5))]}
    assert rules_broken([Placement(("amy",), at(10), at(11))], [amy()], busy=busy) == ["busy"]
    away = amy(out_of_office=((at(0), at(0, day=1)),))
    assert rules_broken([Placement(("amy",), at(10), at(11))], [away]) == ["out_of_office"]
    unknown = {"amy": Unknown("token revoked")}
    assert rules_broken([Placement(("amy",), at(10), at(11))], [amy()], busy=unknown) == ["calendar_unknown"]


def test_buffers_make_an_overlap_on_either_side() -> None:
    booked = [Booking("b", ("amy",), at(11), at(12), buffer_before=timedelta(minutes=15))]
    # touching is fine without buffers ...
    assert rules_broken([Placement(("amy",), at(10), at(11))], [amy()], bookings=booked[:0]) == []
    # ... the existing booking's own buffer before it makes 10:00-11:00 overlap
    assert rules_broken([Placement(("amy",), at(10), at(11))], [amy()], bookings=booked) == ["double_booking"]
    # and the new booking's buffer after reaches into a busy block that starts when it ends
    busy = {"amy": [(at(13), at(14))]}
    tight = Placement(("amy",), at(12.5), at(13), buffer_after=timedelta(minutes=10))
    assert rules_broken([tight], [amy()], busy=busy) == ["busy"]


def test_holds_of_other_requests_count_against_caps_but_the_own_hold_does_not() -> None:
    capped = amy(daily_cap=1)
    hold = Hold("h", "link-b", ("amy",), at(14), at(15))
    assert rules_broken([Placement(("amy",), at(10), at(11))], [capped], holds=[hold]) == ["daily_cap"]
    own = rules_broken([Placement(("amy",), at(14), at(15))], [capped], holds=[hold], hold_key="link-b")
    assert own == []
    # an overlap with another request's hold is its own rule, never overridable
    assert rules_broken([Placement(("amy",), at(14.5), at(15.5))], [amy()], holds=[hold]) == ["held"]
    assert "held" not in OVERRIDABLE and "double_booking" not in OVERRIDABLE


def test_a_loops_sessions_share_caps_and_may_not_overlap_each_other() -> None:
    capped = amy(daily_cap=1, weekly_cap=2)
    two = [Placement(("amy",), at(10), at(11), label="a"), Placement(("amy",), at(13), at(14), label="b")]
    found = check_placements(two, {"amy": capped}, {}, [], [], NOW)
    assert [(v.rule, v.label) for v in found] == [("daily_cap", "b")]
    assert "session b" in str(found[0])
    week = [Placement(("amy",), at(10, day=d), at(11, day=d), label=str(d)) for d in range(3)]
    assert [(v.rule, v.label) for v in check_placements(week, {"amy": capped}, {}, [], [], NOW)] == [
        ("weekly_cap", "2")
    ]
    overlapping = [Placement(("amy",), at(10), at(11)), Placement(("amy",), at(10.5), at(11.5))]
    assert rules_broken(overlapping, [amy()]) == ["double_booking"]


def test_scheduling_rules_guard_the_future_overlaps_guard_always() -> None:
    past = Placement(("amy",), at(3), at(4))  # at night, recorded after the fact
    assert rules_broken([past], [amy()], now=at(0, day=2)) == []
    booked = [Booking("b", ("amy",), at(3), at(4))]
    assert rules_broken([past], [amy()], bookings=booked, now=at(0, day=2)) == ["double_booking"]
    # a profile without any working hours sets no hours rule
    assert rules_broken([past], [Interviewer(id="amy", zone="UTC")]) == []


def test_another_candidates_hold_uses_up_a_daily_cap_in_availability() -> None:
    hold = Hold("h", "link-b", ("amy",), at(14), at(15))

    def slots(hold_key: str) -> list:
        return find_slots(
            interviewers=[amy(daily_cap=1)],
            requirements=[all_of("amy")],
            busy={},
            window=(at(0), at(0, day=1)),
            now=NOW,
            rules=SlotRules(duration=H),
            holds=[hold],
            hold_key=hold_key,
        ).slots

    assert slots("link-a") == []
    assert len(slots("link-b")) == 15  # the own hold is not another interview: 9:00 .. 16:00 every 30 min


def test_a_loop_never_puts_a_capped_fixed_interviewer_on_two_sessions_of_one_day() -> None:
    people = [
        amy(daily_cap=1),
        Interviewer(id="bo", zone="UTC", working_hours=weekday_hours(time(9), time(17))),
    ]
    sessions = (
        Session("one", H, pool=("bo",), fixed=("amy",)),
        Session("two", H, k=0, fixed=("amy",)),
    )
    same_day = plan_loop(
        loop=Loop(sessions, distinct_interviewers=False),
        interviewers=people,
        busy={},
        window=(at(0), at(0, day=1)),
        now=NOW,
        rules=LoopRules(time_limit=2),
    )
    assert same_day.options == [] and same_day.reason
    spread = plan_loop(
        loop=Loop(sessions, same_day=False, distinct_interviewers=False),
        interviewers=people,
        busy={},
        window=(at(0), at(0, day=3)),
        now=NOW,
        rules=LoopRules(time_limit=2),
    )
    assert spread.options
    for option in spread.options:
        days = [s.start.date() for s in option.sessions]
        assert len(set(days)) == 2, option


def test_a_loop_keeps_buffers_between_one_persons_sessions() -> None:
    sessions = (Session("one", H, k=0, fixed=("amy",)), Session("two", H, k=0, fixed=("amy",)))

    def gap(buffer: timedelta) -> timedelta:
        plan = plan_loop(
            loop=Loop(sessions, distinct_interviewers=False),
            interviewers=[amy()],
            busy={},
            window=(at(0), at(0, day=1)),
            now=NOW,
            rules=LoopRules(
                buffer_before=buffer, buffer_after=buffer, time_limit=2, objectives=("earliest",)
            ),
        )
        first, second = plan.options[0].sessions
        return second.start - first.end

    assert gap(timedelta(0)) == timedelta(0)  # back to back without buffers
    assert gap(timedelta(minutes=15)) == timedelta(minutes=30)  # one's after-buffer, the next's before


def test_a_candidates_choice_must_fit_the_loop() -> None:
    from interloop_scheduler.domain.loops import ScheduledSession, check_choice

    loop = Loop(
        (
            Session("intro", H, pool=("amy", "bo")),
            Session("coding", H, pool=("cy",), fixed=("dee",)),
        ),
        min_break=timedelta(minutes=15),
        max_break=timedelta(hours=1),
    )
    good = [
        ScheduledSession("intro", at(9), at(10), ("bo",)),
        ScheduledSession("coding", at(10.25), at(11.25), ("cy", "dee")),
    ]
    assert check_choice(loop, good, "UTC") == []

    def wrong(*sessions: ScheduledSession) -> list[str]:
        return [f for f, _ in check_choice(loop, list(sessions), "UTC")]

    assert wrong(good[0]) == ["loop_sessions"]  # every session, once
    not_pool = ScheduledSession("intro", at(9), at(10), ("eve",))
    assert wrong(not_pool, good[1]) == ["loop_sessions[intro].interviewer_ids"]
    no_fixed = ScheduledSession("coding", at(10.25), at(11.25), ("cy",))
    assert wrong(good[0], no_fixed) == ["loop_sessions[coding].interviewer_ids"]
    short = ScheduledSession("coding", at(10.25), at(10.75), ("cy", "dee"))
    assert wrong(good[0], short) == ["loop_sessions[coding].end"]
    swapped = ScheduledSession("coding", at(7), at(8), ("cy", "dee"))
    assert wrong(good[0], swapped) == ["loop_sessions"]  # out of order
    too_soon = ScheduledSession("coding", at(10), at(11), ("cy", "dee"))
    assert wrong(good[0], too_soon) == ["loop_sessions[coding].start"]
    too_late = ScheduledSession("coding", at(12), at(13), ("cy", "dee"))
    assert wrong(good[0], too_late) == ["loop_sessions[coding].start"]
    next_day = ScheduledSession("coding", at(10.25, day=1), at(11.25, day=1), ("cy", "dee"))
    assert wrong(good[0], next_day) == ["loop_sessions"]  # one day
