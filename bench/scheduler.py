"""Scheduler benchmark: panel availability (8 interviewers x 30 days) as busy events double, against a naive
pairwise reference measured on the same input in the same run, plus the CP-SAT loop solver.

Run: .venv/bin/python bench/scheduler.py   (prints figures; asserts nothing about timing)"""

from __future__ import annotations

import random
import statistics
import time as clock
from datetime import UTC, datetime, time, timedelta

from interloop_scheduler.domain.availability import SlotRules, epoch, find_slots, k_of, working_intervals
from interloop_scheduler.domain.intervals import coverage
from interloop_scheduler.domain.loops import Loop, LoopRules, Session, plan_loop
from interloop_scheduler.domain.model import Interviewer, weekday_hours

ZONES = [
    "America/New_York",
    "America/Chicago",
    "Europe/London",
    "Europe/Berlin",
    "America/Los_Angeles",
    "America/Toronto",
    "Europe/Dublin",
    "America/Denver",
]
START = datetime(2026, 3, 2, tzinfo=UTC)
DAYS = 30
K = 3
RULES = SlotRules(
    duration=timedelta(minutes=60), step=timedelta(minutes=30), candidate_zone="America/New_York"
)


def panel() -> list[Interviewer]:
    # wide working hours so every zone overlaps and the panel query has real work to do
    return [
        Interviewer(id=f"i{n}", zone=z, working_hours=weekday_hours(time(6), time(22)))
        for n, z in enumerate(ZONES)
    ]


def busy_events(n_events: int, seed: int = 1) -> dict[str, list[tuple[datetime, datetime]]]:
    rng = random.Random(seed)
    out: dict[str, list[tuple[datetime, datetime]]] = {f"i{i}": [] for i in range(len(ZONES))}
    for _ in range(n_events):
        who = f"i{rng.randrange(len(ZONES))}"
        start = START + timedelta(minutes=15 * rng.randrange(DAYS * 96))
        out[who].append((start, start + timedelta(minutes=rng.choice((15, 30, 45, 60, 90)))))
    return out


def ours(
    people: list[Interviewer], busy: dict[str, list[tuple[datetime, datetime]]]
) -> list[tuple[int, tuple]]:
    res = find_slots(
        interviewers=people,
        requirements=[k_of(K, *(p.id for p in people))],
        busy=busy,
        window=(START, START + timedelta(days=DAYS)),
        now=START,
        rules=RULES,
    )
    return [(epoch(s.start), s.available[0]) for s in res.slots]


def sweep_only(busy: dict[str, list[tuple[datetime, datetime]]]) -> int:
    """Just the event-driven part: epoch conversion, merge per interviewer, one k-of-n sweep."""
    lists = {pid: [(epoch(s), epoch(e)) for s, e in evs] for pid, evs in busy.items()}
    return len(coverage(lists, K))


def naive(
    people: list[Interviewer], busy: dict[str, list[tuple[datetime, datetime]]]
) -> list[tuple[int, tuple]]:
    """Reference: every grid start x every interviewer x every busy event and working window (pairwise)."""
    dur = 3600
    win = (epoch(START), epoch(START + timedelta(days=DAYS)))
    work = {p.id: working_intervals(p, win) for p in people}
    blocks = {pid: [(epoch(s), epoch(e)) for s, e in evs] for pid, evs in busy.items()}
    out = []
    for t in range(win[0], win[1] - dur + 1, 1800):  # NY offsets are whole hours: the UTC half-hour grid
        free = []
        for p in people:
            inside = any(a <= t and t + dur <= b for a, b in work[p.id])
            if inside and not any(s < t + dur and t < e for s, e in blocks[p.id]):
                free.append(p.id)
        if len(free) >= K:
            out.append((t, tuple(sorted(free))))
    return out


def timed(fn, *args, repeat: int = 3) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        t0 = clock.perf_counter()
        result = fn(*args)
        times.append(clock.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    people = panel()
    print(
        f"availability: {len(people)} interviewers x {DAYS} days, {K}-of-{len(people)}, 60 min, 30 min step"
    )
    print("(query = whole find_slots; sweep = the event-driven part alone: convert, merge, k-of-n sweep)")
    print(
        f"{'events':>7} {'query ms':>9} {'ratio':>6} {'sweep ms':>9} {'ratio':>6} {'naive ms':>9} "
        f"{'naive/query':>11} {'slots':>6}"
    )
    timed(ours, people, busy_events(3000))  # warm-up: imports, zoneinfo caches
    previous = previous_sweep = None
    for n in (3000, 6000, 12000, 24000):
        busy = busy_events(n)
        t_ours, got = timed(ours, people, busy, repeat=5)
        t_sweep, _ = timed(sweep_only, busy, repeat=5)
        ratio = f"{t_ours / previous:6.2f}" if previous else f"{'':>6}"
        ratio += f" {t_sweep * 1000:9.1f} " + (
            f"{t_sweep / previous_sweep:6.2f}" if previous_sweep else f"{'':>6}"
        )
        if n <= 6000:
            t_naive, want = timed(naive, people, busy, repeat=1)
            assert got == want, "engine disagrees with the pairwise reference"
            anchor = f"{t_naive * 1000:9.1f} {t_naive / t_ours:11.1f}"
        else:
            anchor = f"{'-':>9} {'-':>11}"
        print(f"{n:>7} {t_ours * 1000:9.1f} {ratio} {anchor} {len(got):>6}")  # type: ignore[arg-type]
        previous, previous_sweep = t_ours, t_sweep

    # loop solver: 4 sessions, pools of 6, 10 days, busy calendars
    rng = random.Random(2)
    people = [
        Interviewer(id=f"p{i}", zone=rng.choice(ZONES[:2]), working_hours=weekday_hours(time(9), time(17)))
        for i in range(24)
    ]
    busy = {p.id: [] for p in people}
    for p in people:
        for _ in range(40):
            s = START + timedelta(minutes=30 * rng.randrange(10 * 48))
            busy[p.id].append((s, s + timedelta(minutes=rng.choice((30, 60, 90)))))
    sessions = tuple(
        Session(
            f"s{j}", timedelta(minutes=rng.choice((45, 60))), pool=tuple(f"p{6 * j + i}" for i in range(6))
        )
        for j in range(4)
    )
    load = {p.id: rng.randrange(6) for p in people}
    print("\nloop solver: 4 sessions x pools of 6 x 10 days (3 objectives each), 15 min grid")
    for label, loop in (
        (
            "ordered, same day",
            Loop(sessions, min_break=timedelta(minutes=15), max_break=timedelta(minutes=60)),
        ),
        (
            "unordered, same day",
            Loop(sessions, ordered=False, min_break=timedelta(minutes=15), max_break=timedelta(minutes=60)),
        ),
        (
            "unordered, spread <= 2 days",
            Loop(sessions, ordered=False, same_day=False, max_days=2, min_break=timedelta(minutes=15)),
        ),
    ):
        t0 = clock.perf_counter()
        plan = plan_loop(
            loop=loop,
            interviewers=people,
            busy=busy,
            window=(START, START + timedelta(days=10)),
            now=START,
            rules=LoopRules(step=timedelta(minutes=15), candidate_zone="America/New_York", time_limit=10),
            load=load,
        )
        took = clock.perf_counter() - t0
        summary = ", ".join(f"{'/'.join(o.objectives)}={o.status}" for o in plan.options) or plan.reason
        print(f"  {label:<28} {took * 1000:8.1f} ms  {summary}")


if __name__ == "__main__":
    main()
