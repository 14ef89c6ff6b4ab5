"""Scheduler benchmark: panel availability (8 interviewers x 30 days, 3-of-8; and an all-of panel of 4 whose
answer is not empty) as busy events double, against a naive pairwise reference measured on the same input
in the same run; the CP-SAT loop solver; and booking a loop as one transaction on a real PostgreSQL
(latency p50/p95 against a single direct booking through the same checks, measured in the same run).

Run: .venv/bin/python bench/scheduler.py [--quick]   (prints figures; asserts nothing about timing)"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time as clock
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from interloop_common import db
from interloop_common.db import tenant_tx
from interloop_common.errors import AlreadyExists, Conflict
from interloop_devstack.postgres import LocalPostgres
from interloop_devstack.procs import free_port
from interloop_scheduler.domain.availability import (
    Requirement,
    SlotRules,
    all_of,
    epoch,
    find_slots,
    k_of,
    working_intervals,
)
from interloop_scheduler.domain.intervals import coverage
from interloop_scheduler.domain.loops import Loop, LoopRules, Session, plan_loop
from interloop_scheduler.domain.model import Interviewer, weekday_hours
from interloop_scheduler.domain.policy import Placement
from interloop_scheduler.settings import SchedulerSettings
from interloop_scheduler.store import interviewers as interviewer_store
from interloop_scheduler.store.interviewers import InterviewerRow
from interloop_scheduler.usecases import bookings, loops

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


def busy_events(
    n_events: int, seed: int = 1, people: int = len(ZONES)
) -> dict[str, list[tuple[datetime, datetime]]]:
    rng = random.Random(seed)
    out: dict[str, list[tuple[datetime, datetime]]] = {f"i{i}": [] for i in range(people)}
    for _ in range(n_events):
        who = f"i{rng.randrange(people)}"
        start = START + timedelta(minutes=15 * rng.randrange(DAYS * 96))
        out[who].append((start, start + timedelta(minutes=rng.choice((15, 30, 45, 60, 90)))))
    return out


def ours(
    people: list[Interviewer], busy: dict[str, list[tuple[datetime, datetime]]], need: int = K
) -> list[tuple[int, tuple]]:
    ids = [p.id for p in people]
    req: Requirement = all_of(*ids) if need == len(ids) else k_of(need, *ids)
    res = find_slots(
        interviewers=people,
        requirements=[req],
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
    people: list[Interviewer], busy: dict[str, list[tuple[datetime, datetime]]], need: int = K
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
        if len(free) >= need:
            out.append((t, tuple(sorted(free))))
    return out


def timed(fn, *args, repeat: int = 3) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        t0 = clock.perf_counter()
        result = fn(*args)
        times.append(clock.perf_counter() - t0)
    return statistics.median(times), result


def all_of_panel() -> None:
    """An all-of panel of four in New York, Chicago, London and Berlin (12:00-21:00 UTC in common on
    weekdays): every one must be free, and the answer is never empty."""
    people = panel()[:4]
    print(f"\nall-of: {len(people)} interviewers x {DAYS} days, all of them, 60 min, 30 min step")
    print(f"{'events':>7} {'query ms':>9} {'ratio':>6} {'naive ms':>9} {'naive/query':>11} {'slots':>6}")
    previous = None
    for n in (250, 500, 1000, 2000):
        busy = busy_events(n, seed=3, people=len(people))
        t_ours, got = timed(ours, people, busy, len(people), repeat=5)
        t_naive, want = timed(naive, people, busy, len(people), repeat=1)
        assert got == want, "engine disagrees with the pairwise reference"
        assert got, "the all-of workload must have an answer"
        ratio = f"{t_ours / previous:6.2f}" if previous else f"{'':>6}"
        print(
            f"{n:>7} {t_ours * 1000:9.1f} {ratio} {t_naive * 1000:9.1f} {t_naive / t_ours:11.1f} "
            f"{len(got):>6}"  # type: ignore[arg-type]
        )
        previous = t_ours


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def _timed_all(calls: list, concurrency: int) -> tuple[list[float], int]:  # type: ignore[type-arg]
    """Each call's latency (seconds), ``concurrency`` at a time; and how many were refused."""
    gate = asyncio.Semaphore(concurrency)
    took: list[float] = []
    refused = 0

    async def one(call) -> None:  # type: ignore[no-untyped-def]
        nonlocal refused
        async with gate:
            t0 = clock.perf_counter()
            try:
                await call()
            except (loops.LoopConflict, AlreadyExists, Conflict):
                refused += 1
            took.append(clock.perf_counter() - t0)

    await asyncio.gather(*(one(c) for c in calls))
    return took, refused


async def loop_booking(n: int, concurrency: int) -> None:
    """BookLoop's transaction (locks, rule checks, 3 bookings with events and calendar rows) against one
    direct booking through the same checks, on the same database, in the same run."""
    with tempfile.TemporaryDirectory() as tmp:
        pg = LocalPostgres(Path(tmp) / "pg", free_port())
        pg.start()
        try:
            dsn = pg.create_database("scheduler_bench")
            await asyncio.to_thread(db.migrate, dsn, "interloop_scheduler")
            pool = await db.create_pool(dsn, max_size=concurrency)
            settings = SchedulerSettings()
            tenant = "bench"
            people = [f"b{i}" for i in range(12)]
            always = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(1, 8)]
            async with tenant_tx(pool, tenant) as conn:
                for who in people:
                    row = InterviewerRow(who, f"{who}@x.test", who, "UTC", always, 6, 0)
                    await interviewer_store.upsert(conn, tenant, row)
            base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
            rng = random.Random(5)
            gap = timedelta(minutes=15)
            blank = {"application_id": "", "job_id": "", "round": ""}

            def loop_call(k: int, start: datetime, who: list[str], prefix: str):  # type: ignore[no-untyped-def]
                """Three 45-minute sessions, two of ``who`` in each, 15-minute buffers either side: 75 minutes
                apart, so one person may sit on consecutive sessions."""
                sessions = [
                    loops.SessionBooking(
                        f"s{j}",
                        Placement(
                            tuple(rng.sample(who, 2)),
                            start + timedelta(minutes=75 * j),
                            start + timedelta(minutes=75 * j + 45),
                            gap,
                            gap,
                            f"s{j}",
                        ),
                    )
                    for j in range(3)
                ]
                return lambda: loops.book_loop(
                    pool, settings, tenant, sessions, candidate={"candidate_id": f"{prefix}-{k}", **blank}
                )

            def single_call(k: int):  # type: ignore[no-untyped-def]
                start = base + timedelta(hours=5 * n + 2 * k)
                who = rng.sample(people, 2)
                return lambda: bookings.schedule_interview(
                    pool,
                    settings,
                    tenant,
                    candidate_id=f"one-{k}",
                    **blank,
                    interview_type="",
                    interviewer_ids=who,
                    start=start,
                    end=start + timedelta(minutes=45),
                    buffer_before=gap,
                    buffer_after=gap,
                )

            await _timed_all([single_call(-1 - k) for k in range(5)], 1)  # warm-up: pool, plans
            single, _ = await _timed_all([single_call(k) for k in range(n)], concurrency)
            free = [loop_call(k, base + timedelta(hours=5 * k), people, "loop") for k in range(n)]
            looped, refused_loops = await _timed_all(free, concurrency)
            # contended: every loop on one morning of six interviewers with a daily cap (6): most lose
            crowd = base + timedelta(days=60)
            crowds = [
                loop_call(k, crowd + timedelta(minutes=30 * rng.randrange(8)), people[:6], "crowd")
                for k in range(n)
            ]
            crowded, refused = await _timed_all(crowds, concurrency)
            await pool.close()
        finally:
            pg.stop()
    print(f"\nloop booking on PostgreSQL: {n} calls each, {concurrency} at a time, 2 interviewers a session")
    print(f"{'':<34} {'p50 ms':>8} {'p95 ms':>8} {'p95 ratio':>9}")
    anchor = pct(single, 95)
    rows = (
        ("direct booking, 1 session (anchor)", single, ""),
        ("loop, 3 sessions, free", looped, f"refused {refused_loops}"),
        ("loop, 3 sessions, contended", crowded, f"refused {refused}"),
    )
    for label, took, note in rows:
        p50, p95 = pct(took, 50) * 1000, pct(took, 95) * 1000
        print(f"{label:<34} {p50:8.1f} {p95:8.1f} {p95 / anchor / 1000:9.2f}  {note}")


def main(quick: bool = False) -> None:
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

    all_of_panel()
    asyncio.run(loop_booking(40 if quick else 100, 8))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer loop bookings")
    main(parser.parse_args().quick)
