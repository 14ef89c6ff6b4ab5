"""NYC Local Law 144 bias audit (Rules of the City of New York, Title 6, §5-300/5-301): selection rates and
scoring rates with impact ratios by sex, by race/ethnicity and by their intersection, for one period of a
tenant, of one job or of one interview round of a job.

The statistics are `adverse_impact`'s (impact ratio against the highest-rate category, the exact
four-fifths comparison, Fisher's exact test). This module decides who is counted where:

* an individual whose category is unknown is counted in the table's `unknown` and kept out of its
  calculations (§5-301(b)(5)); the intersection is unknown when either attribute is;
* a category under 2% of a table's known individuals keeps its counts and rate but is left out of the impact
  ratios, and is marked so (§5-301(d));
* scoring rates are the share of a category scoring above the median of the full sample (§5-301(c)),
  unknowns included in that median.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from fractions import Fraction

from interloop_common.errors import FieldViolations

from .adverse_impact import MIN_SHARE, GroupImpact, ImpactTable, above_median, selection_impact

SEX, RACE = "sex", "race"  # the demographic attributes the audit reads
INTERSECTION = f"{SEX} x {RACE}"
UNKNOWN = "unknown"
FOUR_FIFTHS = Fraction(4, 5)
MAX_PERIOD_YEARS = 3


class Scope(Enum):
    TENANT = "tenant"
    JOB = "job"
    ROUND = "round"


class Selection(Enum):
    """Which recorded decisions count as selected."""

    ADVANCED_OR_HIRED = "advanced_or_hired"
    HIRED = "hired"

    @property
    def decisions(self) -> frozenset[str]:
        return frozenset({"hire"}) if self is Selection.HIRED else frozenset({"advance", "hire"})


@dataclass(frozen=True)
class AuditRequest:
    scope: Scope
    job_id: str  # "" for the tenant
    round: str  # "" unless one round
    start: datetime  # the period [start, end)
    end: datetime
    selection: Selection


def _plus_years(at: datetime, years: int) -> datetime:
    try:
        return at.replace(year=at.year + years)
    except ValueError:  # 29 February
        return at.replace(year=at.year + years, day=28)


def audit_request(
    *,
    scope: Scope | None,
    job_id: str,
    round: str,
    start: datetime | None,
    end: datetime | None,
    selection: Selection | None,
) -> AuditRequest:
    """The request, or FieldViolations naming every field that is wrong (request field names)."""
    bad: list[tuple[str, str]] = []
    if scope is None:
        bad.append(("scope", "required: the whole tenant, one job (job_id) or one round (job_id and round)"))
    if scope in (Scope.JOB, Scope.ROUND) and not job_id:
        bad.append(("job_id", f"required for a {scope.value} audit"))
    if scope is Scope.TENANT and job_id:
        bad.append(("job_id", "must be empty for a tenant audit; use the job scope to audit one job"))
    if scope is Scope.ROUND and not round:
        bad.append(("round", "required for a round audit"))
    if scope in (Scope.TENANT, Scope.JOB) and round:
        bad.append(("round", "must be empty unless the scope is one round"))
    if selection is None:
        bad.append(("selection", "must be advanced-or-hired or hired"))
    for name, at in (("period.start", start), ("period.end", end)):
        if at is None:
            bad.append((name, "required"))
        elif at.tzinfo is None:
            bad.append((name, "must be timezone-aware (UTC)"))
    if start is not None and end is not None and start.tzinfo is not None and end.tzinfo is not None:
        if end <= start:
            bad.append(("period.end", f"must be after period.start ({start.isoformat()})"))
        elif end > _plus_years(start, MAX_PERIOD_YEARS):
            latest = _plus_years(start, MAX_PERIOD_YEARS).isoformat()
            bad.append(("period", f"at most {MAX_PERIOD_YEARS} years: period.end no later than {latest}"))
    if bad:
        raise FieldViolations(bad)
    assert scope is not None and selection is not None and start is not None and end is not None
    return AuditRequest(scope, job_id, round, start, end, selection)


def category(attributes: Mapping[str, str] | None, name: str) -> str | None:
    """The individual's category on one attribute; None when unknown (missing, blank or "unknown")."""
    value = str((attributes or {}).get(name) or "").strip()
    return None if not value or value.lower() == UNKNOWN else value


@dataclass(frozen=True)
class Assessed:
    """One individual of the audit (a candidate in a job): their sex and race/ethnicity, None if unknown."""

    sex: str | None
    race: str | None

    @classmethod
    def of(cls, attributes: Mapping[str, str] | None) -> Assessed:
        return cls(category(attributes, SEX), category(attributes, RACE))

    @property
    def intersection(self) -> str | None:
        return None if self.sex is None or self.race is None else f"{self.sex} / {self.race}"


@dataclass(frozen=True)
class AuditTable:
    dimension: str
    impact: ImpactTable  # the known individuals only; its n is their number
    unknown: int

    @property
    def known(self) -> int:
        return self.impact.n

    def share(self, g: GroupImpact) -> Fraction | None:
        return Fraction(g.total, self.known) if self.known else None

    def below_four_fifths(self, g: GroupImpact) -> bool:
        return bool(g.adverse_impact)  # None (reference, excluded) is not flagged


@dataclass(frozen=True)
class AuditRates:
    total: int
    first_at: datetime | None
    last_at: datetime | None
    sex: AuditTable
    race: AuditTable
    intersection: AuditTable
    median_score: Fraction | None = None

    @property
    def tables(self) -> tuple[AuditTable, AuditTable, AuditTable]:
        return self.sex, self.race, self.intersection


def _table(dimension: str, labels: Sequence[str | None], outcome: Sequence[bool]) -> AuditTable:
    known = [(c, o) for c, o in zip(labels, outcome, strict=True) if c is not None]
    impact = ImpactTable((), None, 0)
    if known:
        impact = selection_impact(
            {dimension: [c for c, _ in known]},
            [o for _, o in known],
            min_share=MIN_SHARE,
            unknown=None,
            intersections=False,
        )[dimension]
    return AuditTable(dimension, impact, len(labels) - len(known))


def _rates(
    people: Sequence[Assessed], outcome: Sequence[bool], at: Iterable[datetime], median: Fraction | None
) -> AuditRates:
    if len(people) != len(outcome):
        raise ValueError(f"{len(people)} individuals but {len(outcome)} outcomes")
    dates = sorted(at)
    return AuditRates(
        total=len(people),
        first_at=dates[0] if dates else None,
        last_at=dates[-1] if dates else None,
        sex=_table(SEX, [p.sex for p in people], outcome),
        race=_table(RACE, [p.race for p in people], outcome),
        intersection=_table(INTERSECTION, [p.intersection for p in people], outcome),
        median_score=median,
    )


def selection_rates(
    people: Sequence[Assessed], selected: Sequence[bool], at: Iterable[datetime] = ()
) -> AuditRates:
    """Selection rates and impact ratios; `at` are the dates of the decisions counted."""
    return _rates(people, selected, at, None)


def scoring_rates(
    people: Sequence[Assessed], scores: Sequence[float], at: Iterable[datetime] = ()
) -> AuditRates:
    """LL144 scoring rates: per category the share scoring above the median of the full sample."""
    if not people:
        return _rates(people, [], at, None)
    median, above = above_median(scores)
    return _rates(people, above, at, median)


@dataclass(frozen=True)
class BiasAudit:
    request: AuditRequest
    selection: AuditRates
    scoring: AuditRates
    generated_at: datetime
    min_share: Fraction = MIN_SHARE
    four_fifths: Fraction = FOUR_FIFTHS
