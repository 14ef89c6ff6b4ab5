"""Interview loops: several sessions for one candidate, planned together with OR-Tools CP-SAT.

Time is discretised on the slot grid (starts at ``origin + q * step`` in the candidate's zone). Each
(session, interviewer) pair is a boolean; when true the session's start must lie in that interviewer's
free starts (working hours, busy, bookings + buffers, holds, caps, all from ``availability``) and an
optional interval (buffers included) joins the interviewer's NoOverlap; someone on several sessions keeps
within what is left of their daily/weekly caps. Sessions follow a fixed order or an order chosen by a
circuit constraint, with min/max breaks between consecutive sessions on the same day. Three objectives
give the ranked options: earliest finish, fewest days, balanced interviewer load. Each solve is capped
(wall and deterministic time), single-worker with a fixed seed, and reports OPTIMAL or FEASIBLE."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from ortools.sat.python import cp_model

from .availability import Busy, SlotRules, align_ceil, cap_counts, epoch, free_intervals, from_epoch
from .intervals import intersect_sorted, merge, shrink_ends
from .model import Booking, Hold, Interviewer, SchedulingError, Stage, Unknown, require_aware, zone

OBJECTIVES = ("earliest", "fewest_days", "balanced")


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    duration: timedelta
    pool: tuple[str, ...] = ()  # k of these attend
    k: int = 1
    fixed: tuple[str, ...] = ()  # these always attend, in addition to the k
    interview_type: str = ""
    allow_shadow: bool = False  # add one shadow / reverse-shadow trainee for interview_type if one is free


@dataclass(frozen=True, slots=True)
class Loop:
    sessions: tuple[Session, ...]
    ordered: bool = True  # sessions in the given order; otherwise the solver picks the order
    min_break: timedelta = timedelta(0)  # between consecutive sessions on the same day
    max_break: timedelta | None = None
    same_day: bool = True  # all sessions on one local day of the candidate; otherwise spread over days
    max_days: int | None = None  # when spread: at most this many days
    distinct_interviewers: bool = True  # nobody interviews the candidate twice


@dataclass(frozen=True, slots=True)
class LoopRules:
    step: timedelta = timedelta(minutes=30)
    candidate_zone: str = "UTC"
    align_to: time = time(0)
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    min_notice: timedelta = timedelta(0)
    horizon: timedelta | None = None
    max_load_lead: int | None = 3  # skip pool members this far ahead of the least-loaded member
    time_limit: float = 5.0  # seconds per objective
    deterministic_limit: float | None = None  # CP-SAT deterministic time per objective (reproducible cap)
    seed: int = 7
    objectives: tuple[str, ...] = OBJECTIVES


@dataclass(frozen=True, slots=True)
class ScheduledSession:
    session_id: str
    start: datetime
    end: datetime
    interviewers: tuple[str, ...]
    shadows: tuple[tuple[str, Stage], ...] = ()


@dataclass(frozen=True, slots=True)
class LoopOption:
    objectives: tuple[str, ...]  # the objectives this option is best (found) for
    status: str  # "OPTIMAL" or "FEASIBLE" (best found within the time cap)
    sessions: tuple[ScheduledSession, ...]  # in time order
    days: int

    @property
    def start(self) -> datetime:
        return self.sessions[0].start

    @property
    def end(self) -> datetime:
        return max(s.end for s in self.sessions)


@dataclass(frozen=True, slots=True)
class LoopPlan:
    options: list[LoopOption]
    reason: str | None = None  # why there is no option (or a caveat)
    unknown: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())


def _secs(d: timedelta) -> int:
    return int(d.total_seconds())


def plan_loop(
    *,
    loop: Loop,
    interviewers: Sequence[Interviewer],
    busy: Mapping[str, Busy],
    window: tuple[datetime, datetime],
    now: datetime,
    rules: LoopRules = LoopRules(),
    bookings: Sequence[Booking] = (),
    holds: Sequence[Hold] = (),
    hold_key: str | None = None,
    load: Mapping[str, int] | None = None,
    candidate_windows: Sequence[tuple[datetime, datetime]] | None = None,
) -> LoopPlan:
    """Ranked options for ``loop`` in ``window``; ``LoopPlan.options`` is empty with a reason when none."""
    require_aware(window[0], "window.start")
    require_aware(window[1], "window.end")
    require_aware(now, "now")
    if not loop.sessions:
        raise SchedulingError("loop.sessions", "at least one session is needed")
    if len({s.id for s in loop.sessions}) != len(loop.sessions):
        raise SchedulingError("loop.sessions", "session ids must be unique")
    unknown_objectives = set(rules.objectives) - set(OBJECTIVES)
    if unknown_objectives or not rules.objectives:
        raise SchedulingError("rules.objectives", f"choose from {OBJECTIVES}")
    by_id = {i.id: i for i in interviewers}
    load = dict(load or {})
    tz = zone(rules.candidate_zone, "rules.candidate_zone")
    step = _secs(rules.step)
    if step <= 0:
        raise SchedulingError("rules.step", "must be positive")
    for idx, s in enumerate(loop.sessions):
        if s.duration <= timedelta(0):
            raise SchedulingError(f"loop.sessions[{idx}].duration", "must be positive")
        ghosts = [p for p in (*s.pool, *s.fixed) if p not in by_id]
        if ghosts:
            raise SchedulingError(f"loop.sessions[{idx}].pool", f"unknown interviewers {ghosts}")
        if not 0 <= s.k <= len(s.pool):
            raise SchedulingError(f"loop.sessions[{idx}].k", f"must be between 0 and {len(s.pool)}")
    min_break = _secs(loop.min_break)
    max_break = None if loop.max_break is None else _secs(loop.max_break)
    if max_break is not None and max_break < min_break:
        raise SchedulingError("loop.max_break", "must be at least min_break")

    unit = step
    buffers = [_secs(rules.buffer_before), _secs(rules.buffer_after)]
    for v in [*(_secs(s.duration) for s in loop.sessions), min_break, max_break or 0, *buffers]:
        unit = math.gcd(unit, v)
    per_step = step // unit
    lo = max(epoch(window[0]), epoch(now + rules.min_notice))
    hi = epoch(window[1]) if rules.horizon is None else min(epoch(window[1]), epoch(now + rules.horizon))
    origin = align_ceil(lo, tz, step, rules.align_to.hour * 3600 + rules.align_to.minute * 60)
    if origin >= hi:
        return LoopPlan([], "the window closes before the first allowed start (notice/horizon)")
    n_steps = (hi - origin) // step + 1
    horizon_units = (hi - origin) // unit + 1
    window_ep = (epoch(window[0]), epoch(window[1]))
    allowed_global = [(origin, hi)]
    if candidate_windows is not None:
        allowed_global = intersect_sorted(
            allowed_global, merge((epoch(a), epoch(b)) for a, b in candidate_windows)
        )

    def q_ranges(starts: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Epoch start sets -> inclusive step-index ranges."""
        out = []
        for a, b in starts:
            first, last = -((origin - a) // step), (b - 1 - origin) // step
            first, last = max(first, 0), min(last, n_steps - 1)
            if first <= last:
                out.append((first, last))
        return out

    unknown = tuple(
        sorted({p for s in loop.sessions for p in (*s.pool, *s.fixed) if isinstance(busy.get(p), Unknown)})
    )
    notes: list[str] = []
    slot_rules = SlotRules(
        duration=timedelta(0),
        step=rules.step,
        buffer_before=rules.buffer_before,
        buffer_after=rules.buffer_after,
    )
    free_cache: dict[str, list[tuple[int, int]]] = {}

    def free(pid: str) -> list[tuple[int, int]]:
        if pid not in free_cache:
            blocks = busy.get(pid, ())
            free_cache[pid] = (
                []
                if isinstance(blocks, Unknown)
                else intersect_sorted(
                    free_intervals(by_id[pid], blocks, window_ep, slot_rules, bookings, holds, hold_key),
                    allowed_global,
                )
            )
        return free_cache[pid]

    # who may take each session, with the step indices they could start it at
    options_for: list[dict[str, list[tuple[int, int]]]] = []
    fixed_for: list[dict[str, list[tuple[int, int]]]] = []
    trainees_for: list[dict[str, tuple[Stage, list[tuple[int, int]]]]] = []
    for s in loop.sessions:
        dur = _secs(s.duration)
        pool = [p for p in s.pool if p not in unknown and p not in s.fixed]
        if rules.max_load_lead is not None and pool:
            least = min(load.get(p, 0) for p in pool)
            keep = [p for p in pool if load.get(p, 0) - least <= rules.max_load_lead]
            if len(keep) >= s.k:
                skipped = sorted(set(pool) - set(keep))
                if skipped:
                    notes.append(
                        f"session {s.id}: skipped {skipped} (load more than {rules.max_load_lead} ahead)"
                    )
                pool = keep
        cand = {p: q_ranges(shrink_ends(free(p), dur)) for p in pool}
        cand = {p: r for p, r in cand.items() if r}
        if len(cand) < s.k:
            why = (
                f"session {s.id}: needs {s.k} of {list(s.pool)} but only {len(cand)} "
                "have free time in the window"
            )
            if unknown:
                why += f" (calendar unknown: {', '.join(unknown)})"
            return LoopPlan([], why, unknown, tuple(notes))
        fixed = {}
        for p in s.fixed:
            if p in unknown:
                return LoopPlan(
                    [],
                    f"session {s.id}: calendar of required interviewer {p} is unknown",
                    unknown,
                    tuple(notes),
                )
            fixed[p] = q_ranges(shrink_ends(free(p), dur))
            if not fixed[p]:
                return LoopPlan(
                    [],
                    f"session {s.id}: required interviewer {p} has no free time in the window",
                    unknown,
                    tuple(notes),
                )
        trainees: dict[str, tuple[Stage, list[tuple[int, int]]]] = {}
        if s.allow_shadow and s.interview_type:
            for person in interviewers:
                stage = person.stage_for(s.interview_type)
                if (
                    stage in (Stage.SHADOW, Stage.REVERSE_SHADOW)
                    and person.id not in s.pool
                    and person.id not in s.fixed
                    and not isinstance(busy.get(person.id), Unknown)
                ):
                    r = q_ranges(shrink_ends(free(person.id), dur))
                    if r:
                        trainees[person.id] = (stage, r)
        options_for.append(cand)
        fixed_for.append(fixed)
        trainees_for.append(trainees)

    # candidate-local days
    day_bounds: list[tuple[int, int]] = []
    day = from_epoch(origin, tz).date()
    while True:
        start_d = epoch(datetime.combine(day, time(0), tzinfo=tz))
        if start_d >= hi:
            break
        day_bounds.append((start_d, epoch(datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz))))
        day += timedelta(days=1)

    # caps: a person on several sessions may not take more of a local day / ISO week than is left of it
    caps: dict[str, list[tuple[int, int, int]]] = {}
    for pid in {p for opts in (*options_for, *fixed_for) for p in opts} | {
        t for tr in trainees_for for t in tr
    }:
        person = by_id[pid]
        if person.daily_cap is None and person.weekly_cap is None:
            continue
        ptz = zone(person.zone, f"interviewers[{pid}].zone")
        days, weeks = cap_counts(person, bookings, holds, hold_key)
        periods = []
        first_day = local = from_epoch(origin, ptz).date()
        while epoch(datetime.combine(local, time(0), tzinfo=ptz)) < hi:
            day_start = epoch(datetime.combine(local, time(0), tzinfo=ptz))
            day_end = epoch(datetime.combine(local + timedelta(days=1), time(0), tzinfo=ptz))
            if person.daily_cap is not None:
                periods.append((day_start, day_end, person.daily_cap - days[local]))
            if person.weekly_cap is not None and (local.weekday() == 0 or local == first_day):
                monday = local - timedelta(days=local.weekday())
                week_start = epoch(datetime.combine(monday, time(0), tzinfo=ptz))
                week_end = epoch(datetime.combine(monday + timedelta(days=7), time(0), tzinfo=ptz))
                periods.append((week_start, week_end, person.weekly_cap - weeks[monday]))
            local += timedelta(days=1)
        caps[pid] = periods

    results: list[tuple[str, str, tuple[ScheduledSession, ...], int]] = []
    for objective in rules.objectives:
        solved = _solve(
            objective,
            loop,
            rules,
            options_for,
            fixed_for,
            trainees_for,
            day_bounds,
            load,
            origin,
            step,
            unit,
            per_step,
            n_steps,
            horizon_units,
            tz,
            caps,
        )
        if solved is None:
            continue
        if solved[0] == "INFEASIBLE":
            why = (
                "no arrangement fits: the sessions, breaks and day rules cannot be met together with "
                "everyone's free time in the window"
            )
            return LoopPlan([], why, unknown, tuple(notes))
        if solved[0] == "UNKNOWN":
            notes.append(f"{objective}: no solution found within the time limit")
            continue
        results.append((objective, *solved))  # type: ignore[arg-type]
    if not results:
        return LoopPlan([], "no solution found within the time limit", unknown, tuple(notes))
    merged: list[LoopOption] = []
    for objective, status, sessions, days in results:
        same = next((i for i, o in enumerate(merged) if o.sessions == sessions), None)
        if same is None:
            merged.append(LoopOption((objective,), status, sessions, days))
        else:
            o = merged[same]
            merged[same] = LoopOption((*o.objectives, objective), o.status, o.sessions, o.days)
    return LoopPlan(merged, None, unknown, tuple(notes))


def _domain(ranges: list[tuple[int, int]]) -> cp_model.Domain:
    return cp_model.Domain.from_intervals([[a, b] for a, b in ranges])


def _solve(
    objective: str,
    loop: Loop,
    rules: LoopRules,
    options_for: list[dict[str, list[tuple[int, int]]]],
    fixed_for: list[dict[str, list[tuple[int, int]]]],
    trainees_for: list[dict[str, tuple[Stage, list[tuple[int, int]]]]],
    day_bounds: list[tuple[int, int]],
    load: Mapping[str, int],
    origin: int,
    step: int,
    unit: int,
    per_step: int,
    n_steps: int,
    horizon_units: int,
    tz: ZoneInfo,
    caps: Mapping[str, list[tuple[int, int, int]]],
) -> tuple[str, tuple[ScheduledSession, ...], int] | tuple[str] | None:
    m = cp_model.CpModel()
    n = len(loop.sessions)
    sessions = loop.sessions
    dur_u = [_secs(s.duration) // unit for s in sessions]
    q = [m.new_int_var(0, n_steps - 1, f"q_{s.id}") for s in sessions]
    start = [per_step * q[i] for i in range(n)]
    end_u = [m.new_int_var(0, horizon_units + max(dur_u), f"end_{s.id}") for s in sessions]
    for i in range(n):
        m.add(end_u[i] == per_step * q[i] + dur_u[i])

    # days: each session inside exactly one candidate-local day
    on_day = [[m.new_bool_var(f"day_{i}_{d}") for d in range(len(day_bounds))] for i in range(n)]
    day_idx = [m.new_int_var(0, max(len(day_bounds) - 1, 0), f"dayidx_{i}") for i in range(n)]
    used = [m.new_bool_var(f"used_{d}") for d in range(len(day_bounds))]
    for i in range(n):
        m.add_exactly_one(on_day[i])
        m.add(day_idx[i] == sum(d * on_day[i][d] for d in range(len(day_bounds))))
        for d, (ds, de) in enumerate(day_bounds):
            first = max(0, -((origin - ds) // step))
            last = min(n_steps - 1, (de - _secs(sessions[i].duration) - origin) // step)
            if first > last:
                m.add(on_day[i][d] == 0)
            else:
                m.add_linear_constraint(q[i], first, last).only_enforce_if(on_day[i][d])
            m.add_implication(on_day[i][d], used[d])
    for d in range(len(day_bounds)):
        m.add_bool_or([on_day[i][d] for i in range(n)]).only_enforce_if(used[d])
    if loop.same_day:
        for i in range(1, n):
            for d in range(len(day_bounds)):
                m.add(on_day[i][d] == on_day[0][d])
    elif loop.max_days is not None:
        m.add(sum(used) <= loop.max_days)

    # interviewers
    per_person: dict[str, list[tuple[int, cp_model.IntVar]]] = {}
    optional: dict[str, list[cp_model.IntVar]] = {}  # pool and trainee choices (fixed people may repeat)
    chosen: list[dict[str, cp_model.IntVar]] = []
    shadow_vars: list[dict[str, cp_model.IntVar]] = []
    for i, s in enumerate(sessions):
        x = {}
        for p, ranges in options_for[i].items():
            x[p] = m.new_bool_var(f"x_{s.id}_{p}")
            m.add_linear_expression_in_domain(q[i], _domain(ranges)).only_enforce_if(x[p])
            per_person.setdefault(p, []).append((i, x[p]))
            optional.setdefault(p, []).append(x[p])
        m.add(sum(x.values()) == s.k)
        for p, ranges in fixed_for[i].items():
            m.add_linear_expression_in_domain(q[i], _domain(ranges))
            per_person.setdefault(p, []).append((i, m.new_constant(1)))
        y = {}
        for t, (_, ranges) in trainees_for[i].items():
            y[t] = m.new_bool_var(f"y_{s.id}_{t}")
            m.add_linear_expression_in_domain(q[i], _domain(ranges)).only_enforce_if(y[t])
            per_person.setdefault(t, []).append((i, y[t]))
            optional.setdefault(t, []).append(y[t])
        if y:
            m.add_at_most_one(y.values())
        chosen.append(x)
        shadow_vars.append(y)
    # one person's sessions keep their buffers apart, as bookings do (interview + buffers never overlap)
    before_u, after_u = _secs(rules.buffer_before) // unit, _secs(rules.buffer_after) // unit
    for p, uses in per_person.items():
        if len(uses) > 1:
            ivs = [
                m.new_optional_fixed_size_interval_var(
                    start[i] - before_u, dur_u[i] + before_u + after_u, lit, f"iv_{p}_{i}"
                )
                for i, lit in uses
            ]
            m.add_no_overlap(ivs)
    for p, uses in per_person.items():
        if len(uses) < 2:
            continue
        for a, b, left in caps.get(p, ()):
            if left >= len(uses):
                continue
            first, last = max(0, -((origin - a) // step)), min(n_steps - 1, (b - 1 - origin) // step)
            if first > last:
                continue
            inside = []
            for i, lit in uses:
                in_period = m.new_bool_var(f"cap_{p}_{a}_{i}")
                outside = cp_model.Domain(first, last).complement()
                m.add_linear_expression_in_domain(q[i], outside).only_enforce_if(in_period.Not())
                both = m.new_bool_var(f"capuse_{p}_{a}_{i}")
                m.add(both >= lit + in_period - 1)
                inside.append(both)
            m.add(sum(inside) <= max(left, 0))
    if loop.distinct_interviewers:
        for lits in optional.values():
            if len(lits) > 1:
                m.add(sum(lits) <= 1)

    # candidate: order and breaks
    min_b = _secs(loop.min_break) // unit
    max_b = None if loop.max_break is None else _secs(loop.max_break) // unit

    def follows(i: int, j: int, lits: list[cp_model.IntVar]) -> None:
        """j directly after i (when all ``lits`` hold)."""
        m.add(start[j] >= end_u[i] + min_b).only_enforce_if(lits)
        if loop.same_day:
            if max_b is not None:
                m.add(start[j] <= end_u[i] + max_b).only_enforce_if(lits)
            return
        same = m.new_bool_var(f"same_{i}_{j}")
        m.add(day_idx[j] == day_idx[i]).only_enforce_if([*lits, same])
        m.add(day_idx[j] >= day_idx[i] + 1).only_enforce_if([*lits, same.Not()])
        if max_b is not None:
            m.add(start[j] <= end_u[i] + max_b).only_enforce_if([*lits, same])

    if loop.ordered:
        for i in range(n - 1):
            follows(i, i + 1, [])
    elif n > 1:
        arcs = []
        for i in range(n):
            arcs.append((0, i + 1, m.new_bool_var(f"first_{i}")))
            arcs.append((i + 1, 0, m.new_bool_var(f"last_{i}")))
            for j in range(n):
                if i != j:
                    lit = m.new_bool_var(f"arc_{i}_{j}")
                    arcs.append((i + 1, j + 1, lit))
                    follows(i, j, [lit])
        m.add_circuit(arcs)

    # objectives, lexicographic by weights
    finish = m.new_int_var(0, horizon_units + max(dur_u), "finish")
    m.add_max_equality(finish, end_u)
    n_shadows = sum(len(y) for y in shadow_vars)
    shadows = sum(v for y in shadow_vars for v in y.values()) if n_shadows else 0
    first = m.new_int_var(0, horizon_units, "first")
    m.add_min_equality(first, start)
    span_max = horizon_units + max(dur_u) + 1
    # finish first, then more shadows, then a compact day for the candidate (same day) or every
    # session as early as it can be (spread: a gap across days means nothing)
    if loop.same_day:
        tie, tie_max = finish - first, span_max
    else:
        tie, tie_max = sum(start), span_max * n
    time_term = (finish * (n_shadows + 1) - shadows) * tie_max + tie
    time_span = span_max * (n_shadows + 1) * tie_max
    if objective == "earliest":
        m.minimize(time_term)
    elif objective == "fewest_days":
        m.minimize(sum(used) * time_span + time_term)
    else:
        all_x = [(p, v) for x in chosen for p, v in x.items()]
        max_load = max((load.get(p, 0) for p, _ in all_x), default=0) + n
        peak = m.new_int_var(0, max_load, "peak")
        for p, uses in per_person.items():
            count = sum(lit for _, lit in uses)
            assigned = m.new_bool_var(f"assigned_{p}")
            m.add_max_equality(assigned, [lit for _, lit in uses])
            m.add(peak >= load.get(p, 0) * assigned + count).only_enforce_if(assigned)
        total = sum(load.get(p, 0) * v for p, v in all_x)
        total_span = sum(load.get(p, 0) for p, _ in all_x) + 1
        m.minimize((peak * total_span + total) * time_span + time_term)

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1  # deterministic, and the machine is shared
    solver.parameters.random_seed = rules.seed
    solver.parameters.max_time_in_seconds = rules.time_limit
    if rules.deterministic_limit is not None:
        solver.parameters.max_deterministic_time = rules.deterministic_limit
    status = solver.solve(m)
    if status == cp_model.INFEASIBLE:
        return ("INFEASIBLE",)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ("UNKNOWN",)
    out = []
    for i, s in enumerate(sessions):
        begin = origin + solver.value(q[i]) * step
        people = sorted([p for p, v in chosen[i].items() if solver.value(v)] + list(fixed_for[i]))
        trainees = tuple(
            sorted((t, trainees_for[i][t][0]) for t, v in shadow_vars[i].items() if solver.value(v))
        )
        out.append(
            ScheduledSession(
                s.id,
                from_epoch(begin, tz),
                from_epoch(begin + _secs(s.duration), tz),
                tuple(people),
                trainees,
            )
        )
    out.sort(key=lambda ss: (ss.start, ss.session_id))
    days = len({ss.start.date() for ss in out})
    return ("OPTIMAL" if status == cp_model.OPTIMAL else "FEASIBLE", tuple(out), days)


def check_choice(
    loop: Loop, chosen: Sequence[ScheduledSession], candidate_zone: str
) -> list[tuple[str, str]]:
    """What is wrong with sessions a candidate chose for ``loop`` (field, what would be right): one per
    session with its duration, its fixed interviewers and k of its pool, the order, breaks and days. Free
    time, caps and overlaps are the booking's rules, checked when it is written."""
    tz = zone(candidate_zone, "candidate_time_zone")
    spec = {s.id: s for s in loop.sessions}
    if sorted(c.session_id for c in chosen) != sorted(spec):
        return [("loop_sessions", f"one of each session: {sorted(spec)}")]
    out: list[tuple[str, str]] = []
    pooled_seen: set[str] = set()
    for c in chosen:
        s, at = spec[c.session_id], f"loop_sessions[{c.session_id}]"
        people = set(c.interviewers)
        if c.end - c.start != s.duration:
            out.append((f"{at}.end", f"{s.duration} after the start"))
        if not set(s.fixed) <= people:
            out.append((f"{at}.interviewer_ids", f"must include {sorted(s.fixed)}"))
        pooled = people - set(s.fixed)
        if not pooled <= set(s.pool) or len(pooled) != s.k:
            out.append((f"{at}.interviewer_ids", f"{s.k} of {sorted(s.pool)} besides {sorted(s.fixed)}"))
        if loop.distinct_interviewers and pooled & pooled_seen:
            out.append(
                (f"{at}.interviewer_ids", f"{sorted(pooled & pooled_seen)} already in another session")
            )
        pooled_seen |= pooled
    ordered = sorted(chosen, key=lambda c: c.start)
    if loop.ordered and [c.session_id for c in ordered] != [s.id for s in loop.sessions]:
        out.append(("loop_sessions", f"in this order: {[s.id for s in loop.sessions]}"))
    days = {c.start.astimezone(tz).date() for c in ordered}
    if loop.same_day and len(days) > 1:
        out.append(("loop_sessions", "all on one day"))
    if loop.max_days is not None and len(days) > loop.max_days:
        out.append(("loop_sessions", f"on at most {loop.max_days} days"))
    for a, b in zip(ordered, ordered[1:], strict=False):
        same = a.start.astimezone(tz).date() == b.start.astimezone(tz).date()
        if b.start < a.end + loop.min_break:
            out.append(
                (f"loop_sessions[{b.session_id}].start", f"at least {loop.min_break} after {a.session_id}")
            )
        elif same and loop.max_break is not None and b.start > a.end + loop.max_break:
            out.append(
                (f"loop_sessions[{b.session_id}].start", f"at most {loop.max_break} after {a.session_id}")
            )
    return out
