"""The bias-audit report (NYC Local Law 144 style) as JSON: selection and scoring rates by category."""

from __future__ import annotations

from typing import Literal

import msgspec

from interloop_gateway.wire import LocalDate, Timestamp

Stat = float | None  # null where a statistic is undefined (an excluded category's impact ratio)
Scope = Literal["tenant", "job", "round"]
Selection = Literal["advanced_or_hired", "hired"]


class CategoryOut(msgspec.Struct, kw_only=True):
    category: str
    total: int
    selected: int
    rate: Stat
    # the category's share of the individuals whose category is known
    share: Stat
    # rate / the highest rate among included categories; null when excluded
    impact_ratio: Stat
    reference: bool
    below_four_fifths: bool
    # under the minimum share (2%): reported, not used for impact ratios
    excluded: bool
    fisher_p: Stat


class TableOut(msgspec.Struct, kw_only=True):
    # "sex", "race" or "sex x race"
    dimension: str
    categories: list[CategoryOut]
    known: int
    unknown: int
    reference: str


class RatesOut(msgspec.Struct, kw_only=True):
    total: int
    # the first and last decision (or submission) actually in the data; null when there is none
    first_at: Timestamp | None
    last_at: Timestamp | None
    sex: TableOut
    race: TableOut
    intersection: TableOut
    # scoring rates: the sample's median score; null for selection rates
    median_score: Stat


class BiasAuditOut(msgspec.Struct, kw_only=True):
    scope: Scope
    job_id: str
    round: str
    # the requested range, inclusive dates
    from_date: LocalDate
    to_date: LocalDate
    selection: Selection
    selection_rates: RatesOut
    scoring_rates: RatesOut
    min_share: float
    four_fifths: float
    generated_at: Timestamp
