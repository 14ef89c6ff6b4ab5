"""Loop planning with CP-SAT: order, breaks, same day vs spread, load balance, shadows, status, infeasible."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from interloop_scheduler.domain.loops import Loop, LoopRules, Session, plan_loop
from interloop_scheduler.domain.model import Interviewer, Stage, Unknown, weekday_hours

NY = ZoneInfo("America/New_York")
MON = datetime(2026, 3, 2, tzinfo=NY)
NOW = datetime(2026, 3, 1, tzinfo=UTC)
H = timedelta(hours=1)


def person(pid: str, start: int = 9, end: int = 17, **kw: object) -> Interviewer:
    return Interviewer(
        id=pid, zone="America/New_York", working_hours=weekday_hours(time(start), time(end)), **kw
    )


def busy_ny(day: int, h1: int, h2: int) -> tuple[datetime, datetime]:
    return (datetime(2026, 3, day, h1, tzinfo=NY), datetime(2026, 3, day, h2, tzinfo=NY))


RULES = LoopRules(step=timedelta(minutes=30), candidate_zone="America/New_York")


def plan(loop: Loop, people: list[Interviewer], busy: dict | None = None, days: int = 5, **kw: object):
    return plan_loop(
        loop=loop,
        interviewers=people,
        busy=busy or {},
        window=(MON, MON + timedelta(days=days)),
        now=NOW,
        **{"rules": RULES, **kw},
    )


def hm(option) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(s.session_id, s.start.strftime("%d %H:%M"), s.interviewers) for s in option.sessions]


def test_ordered_loop_respects_order_and_breaks() -> None:
    people = [person("a"), person("b"), person("c")]
    loop = Loop(
        (Session("s1", H, pool=("a",)), Session("s2", H, pool=("b",)), Session("s3", H, pool=("c",))),
        min_break=timedelta(minutes=30),
        max_break=timedelta(minutes=60),
    )
    # a is busy until 11 on Monday: the loop starts at 11 and keeps 30-minute breaks
    res = plan(loop, people, {"a": [busy_ny(2, 9, 11)]})
    best = res.options[0]
    assert best.status == "OPTIMAL" and "earliest" in best.objectives
    assert hm(best) == [("s1", "02 11:00", ("a",)), ("s2", "02 12:30", ("b",)), ("s3", "02 14:00", ("c",))]


def test_unordered_loop_lets_the_solver_pick_the_order() -> None:
    people = [person("a"), person("b")]
    loop = Loop(
        (Session("s1", H, pool=("a",)), Session("s2", H, pool=("b",))), ordered=False, max_break=timedelta(0)
    )
    res = plan(loop, people, {"a": [busy_ny(2, 9, 10)]})
    assert hm(res.options[0]) == [("s2", "02 09:00", ("b",)), ("s1", "02 10:00", ("a",))]
    ordered = plan(Loop(loop.sessions, max_break=timedelta(0)), people, {"a": [busy_ny(2, 9, 10)]})
    assert hm(ordered.options[0]) == [("s1", "02 10:00", ("a",)), ("s2", "02 11:00", ("b",))]


def test_same_day_versus_spread_over_days() -> None:
    # a only free Monday, b only free Tuesday
    people = [person("a"), person("b")]
    busy = {"a": [busy_ny(d, 0, 23) for d in (3, 4, 5, 6)], "b": [busy_ny(d, 0, 23) for d in (2, 4, 5, 6)]}
    sessions = (Session("s1", H, pool=("a",)), Session("s2", H, pool=("b",)))
    same = plan(Loop(sessions), people, busy)
    assert same.options == [] and "cannot be met" in same.reason
    spread = plan(Loop(sessions, same_day=False, max_days=2), people, busy)
    best = spread.options[0]
    assert best.days == 2 and hm(best) == [("s1", "02 09:00", ("a",)), ("s2", "03 09:00", ("b",))]


def test_fewest_days_option_differs_from_earliest() -> None:
    # b's only Monday hour is 16:00; a whole loop on Tuesday is one day but finishes later
    people = [person("a"), person("b")]
    busy = {"b": [busy_ny(2, 9, 16)], "a": [busy_ny(2, 10, 17)]}
    res = plan(
        Loop((Session("s1", H, pool=("a",)), Session("s2", H, pool=("b",))), same_day=False), people, busy
    )
    by = {o: opt for opt in res.options for o in opt.objectives}
    assert by["earliest"].days == 1 or by["earliest"].end <= by["fewest_days"].end
    assert by["fewest_days"].days == 1


def test_balanced_load_skips_interviewers_far_ahead_and_prefers_light_ones() -> None:
    people = [person(p) for p in ("heavy", "mid", "light")]
    loop = Loop((Session("s1", H, pool=("heavy", "mid", "light")),))
    res = plan(loop, people, load={"heavy": 9, "mid": 2, "light": 0})
    assert any("skipped ['heavy']" in n for n in res.notes)
    by = {o: opt for opt in res.options for o in opt.objectives}
    assert by["balanced"].sessions[0].interviewers == ("light",)
    assert all("heavy" not in s.interviewers for o in res.options for s in o.sessions)


def test_shadow_trainee_added_where_allowed() -> None:
    people = [
        person("a"),
        person("b"),
        person("t", training={"coding": Stage.SHADOW}),
        person("r", training={"coding": Stage.REVERSE_SHADOW, "design": Stage.TRAINED}),
    ]
    loop = Loop(
        (
            Session("code", H, pool=("a",), interview_type="coding", allow_shadow=True),
            Session("design", H, pool=("b",), interview_type="design", allow_shadow=True),
        )
    )
    res = plan(loop, people, {"t": [busy_ny(2, 0, 23)]})
    code, design = res.options[0].sessions
    assert code.shadows == (("r", Stage.REVERSE_SHADOW),) and design.shadows == ()
    no_shadow = plan(Loop((Session("code", H, pool=("a",), interview_type="coding"),)), people)
    assert no_shadow.options[0].sessions[0].shadows == ()


def test_fixed_interviewers_and_k_of_pool() -> None:
    people = [person(p) for p in ("hm", "a", "b", "c")]
    loop = Loop((Session("panel", H, pool=("a", "b", "c"), k=2, fixed=("hm",)),))
    res = plan(loop, people, {"a": [busy_ny(2, 9, 12)], "hm": [busy_ny(2, 9, 10)]})
    s = res.options[0].sessions[0]
    assert s.start.strftime("%d %H:%M") == "02 10:00" and s.interviewers == ("b", "c", "hm")


def test_infeasible_returns_no_options_and_a_reason() -> None:
    people = [person("a"), person("b")]
    res = plan(
        Loop((Session("s1", H, pool=("a", "b"), k=2),)),
        people,
        {"a": [busy_ny(d, 0, 23) for d in range(2, 7)]},
    )
    assert res.options == [] and "session s1" in res.reason
    res = plan(Loop((Session("s1", H, pool=("a",)),)), people, {"a": Unknown("graph: 401")})
    assert res.options == [] and res.unknown == ("a",) and "unknown" in res.reason


def _hard_instance() -> tuple[list[Interviewer], dict, tuple[Session, ...], dict[str, int]]:
    rng = random.Random(2)
    people = [person(f"p{i}") for i in range(24)]
    busy: dict = {p.id: [] for p in people}
    for p in people:
        for _ in range(40):
            s = MON + timedelta(minutes=30 * rng.randrange(10 * 48))
            busy[p.id].append((s, s + timedelta(minutes=rng.choice((30, 60, 90)))))
    sessions = tuple(Session(f"s{j}", H, pool=tuple(f"p{6 * j + i}" for i in range(6))) for j in range(4))
    return people, busy, sessions, {p.id: rng.randrange(6) for p in people}


def test_reports_feasible_when_the_cap_stops_the_search_and_optimal_otherwise() -> None:
    people, busy, sessions, load = _hard_instance()
    loop = Loop(sessions, ordered=False, same_day=False, min_break=timedelta(minutes=15))

    def run(limit: float | None):
        rules = LoopRules(
            step=timedelta(minutes=15),
            candidate_zone="America/New_York",
            deterministic_limit=limit,
            objectives=("fewest_days",),
        )
        return plan(loop, people, busy, days=10, rules=rules, load=load)

    capped, full = run(0.05), run(None)  # deterministic time: reproducible with one worker and a fixed seed
    assert capped.options[0].status == "FEASIBLE"
    assert full.options[0].status == "OPTIMAL"
    assert full.options[0].days <= capped.options[0].days
    starved = run(0.001)
    assert starved.options == [] and "time limit" in starved.reason
