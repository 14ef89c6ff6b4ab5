"""Request and response bodies of the scorecard resources. Responses are the scorecard service's messages
as protobuf JSON (field names as in the .proto, timestamps as RFC 3339 strings); a statistic that is
undefined (NaN) is null, and a timestamp the service did not set is left out unless named otherwise."""

from __future__ import annotations

from typing import Annotated, Generic, Literal, TypeVar

import msgspec
from litestar.params import KwargDefinition
from msgspec import UNSET, UnsetType

from interloop_gateway.wire import Int32, Page, Timestamp

T = TypeVar("T")

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class AnchorIn(msgspec.Struct):
    point: Int32
    description: str


class ScaleIn(msgspec.Struct):
    kind: Literal["numeric", "labels"] = "numeric"
    min: Int32 = 1
    max: Int32 = 5
    # ordered worst..best; empty on a label scale means Greenhouse's five labels
    labels: list[str] = []


class DimensionIn(msgspec.Struct):
    key: Text
    name: Text
    scale: ScaleIn = msgspec.field(default_factory=ScaleIn)
    anchors: list[AnchorIn] = []
    evidence_required: bool = False


class TemplateIn(msgspec.Struct):
    job_id: Text
    round: Text
    dimensions: list[DimensionIn]
    # ignored: the author is the caller's key (its interviewer, or the key itself)
    created_by: str = ""


class TemplateRevisionIn(msgspec.Struct):
    dimensions: list[DimensionIn]
    # ignored: the author is the caller's key (its interviewer, or the key itself)
    created_by: str = ""


class RatingIn(msgspec.Struct):
    dimension: Text
    # a number on a numeric scale ...
    score: float | None = None
    # ... or a label on a label scale
    label: str = ""
    evidence: str = ""


class ScorecardIn(msgspec.Struct):
    interview_id: Text
    interviewer_id: Text
    ratings: list[RatingIn] = []
    recommendation: str = ""
    confidence: Int32 | None = None
    template_id: str = ""
    # true: validate and submit now; false: save as a draft
    submit: bool = False


class SubmitIn(msgspec.Struct):
    ratings: list[RatingIn] = []
    recommendation: str = ""
    confidence: Int32 | None = None


class AmendmentIn(msgspec.Struct):
    reason: Text
    ratings: list[RatingIn] = []
    recommendation: str = ""
    confidence: Int32 | None = None
    # ignored: the amender is the caller (the interviewer the key belongs to or an admin acts for)
    amended_by: str = ""


class DecisionIn(msgspec.Struct):
    candidate_id: Text
    job_id: Text
    decision: Literal["advance", "hire", "reject"]
    # ignored: the decision is recorded under the caller's key, never a name from the body
    decided_by: str = ""
    reason: str = ""


class DemographicsIn(msgspec.Struct):
    # self-identified categories, e.g. {"sex": "female", "race": "asian"}; "unknown" when declined
    attributes: dict[str, str]


# -- responses

# A statistic: null when undefined (no variation, too few raters).
Stat = float | None


class Items(msgspec.Struct, Generic[T]):
    items: list[T]


class AnchorOut(msgspec.Struct, kw_only=True):
    point: int
    description: str


class DimensionOut(msgspec.Struct, kw_only=True):
    key: str
    name: str
    # numeric (scale_min..scale_max) or labels (ordered labels, ordinal 1..K)
    scale_kind: str
    scale_min: int
    scale_max: int
    labels: list[str]
    anchors: list[AnchorOut]
    evidence_required: bool


class TemplateOut(msgspec.Struct, kw_only=True):
    id: str
    job_id: str
    round: str
    version: int
    dimensions: list[DimensionOut]
    created_at: Timestamp | UnsetType = UNSET
    created_by: str


class RatingOut(msgspec.Struct, kw_only=True):
    dimension: str
    score: Stat
    evidence: str
    label: str


class ScorecardOut(msgspec.Struct, kw_only=True):
    id: str
    interviewer_id: str
    candidate_id: str
    ratings: list[RatingOut]
    recommendation: str
    confidence: int | None
    # null while a draft
    submitted_at: Timestamp | None
    version: int
    job_id: str
    round: str
    template_id: str
    template_version: int
    # draft | submitted
    status: str
    interview_ended_at: Timestamp | None
    # null while a draft
    time_to_feedback_seconds: Stat
    amended_by: str
    amend_reason: str
    # when this version was written
    created_at: Timestamp | UnsetType = UNSET
    interview_id: str


class ScorecardDetailOut(ScorecardOut, kw_only=True):
    # every version, oldest first
    versions: list[ScorecardOut]


class ScorecardsPage(msgspec.Struct):
    items: list[ScorecardOut]
    # scorecards on the page the caller may not see yet (blind until they submit their own)
    hidden_count: int
    next_cursor: str | None


class OwedScorecardOut(msgspec.Struct, kw_only=True):
    """A scorecard owed for an interview: whether it is overdue, and the one filed for it if any."""

    interviewer_id: str
    candidate_id: str
    status: str
    due_at: Timestamp | None
    job_id: str
    round: str
    overdue: bool
    interview_end: Timestamp | None
    # the scorecard filed for it (draft or submitted), if any
    scorecard_id: str
    interview_id: str


class DecisionOut(msgspec.Struct, kw_only=True):
    candidate_id: str
    job_id: str
    decision: str
    decided_by: str
    reason: str
    decided_at: Timestamp | UnsetType = UNSET


class StatisticsKeyOut(msgspec.Struct, kw_only=True):
    job_id: str
    round: str
    dimension: str
    n_ratings: int
    updated_at: Timestamp | UnsetType = UNSET


class RaterCalibrationOut(msgspec.Struct, kw_only=True):
    interviewer_id: str
    n: int
    leniency: Stat
    erratic: Stat
    agreement: Stat
    low_n: bool
    leniency_shrunk: Stat
    n_shared: int
    # insufficient_n, lenient, harsh, erratic
    flags: list[str]


class IccOut(msgspec.Struct, kw_only=True):
    # ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k
    form: str
    value: Stat
    ci95_low: Stat
    ci95_high: Stat
    f: Stat
    df1: int
    df2: int
    p: Stat


class AlphaOut(msgspec.Struct, kw_only=True):
    # nominal, ordinal, interval, ratio
    level: str
    value: Stat
    ci95_low: Stat
    ci95_high: Stat
    bootstrap_samples: int


class CohenPairOut(msgspec.Struct, kw_only=True):
    interviewer_a: str
    interviewer_b: str
    n: int
    kappa: Stat
    kappa_linear: Stat
    kappa_quadratic: Stat


class ReliabilityOut(msgspec.Struct, kw_only=True):
    n_subjects: int
    n_raters: int
    n_ratings: int
    krippendorff_alpha_interval: Stat
    krippendorff_alpha_ordinal: Stat
    raters: list[RaterCalibrationOut]
    note: str
    icc: list[IccOut]
    icc_note: str
    alpha: list[AlphaOut]
    fleiss_kappa: Stat
    gwet_ac1: Stat
    gwet_ac2_linear: Stat
    gwet_ac2_quadratic: Stat
    cohen_pairs: list[CohenPairOut]
    scale_points: list[Stat]


class CalibrationOut(msgspec.Struct, kw_only=True):
    raters: list[RaterCalibrationOut]
    residual_sd: Stat
    prior_strength: Stat


class ScoreCountOut(msgspec.Struct, kw_only=True):
    point: Stat
    count: int


class DisagreementOut(msgspec.Struct, kw_only=True):
    candidate_id: str
    n: int
    sd: Stat
    min: Stat
    max: Stat


class DimensionStatisticsOut(msgspec.Struct, kw_only=True):
    dimension: str
    n: int
    mean: Stat
    sd: Stat
    distribution: list[ScoreCountOut]
    within_candidate_sd: Stat
    alpha_ordinal: Stat
    disagreements: list[DisagreementOut]


class LogisticOut(msgspec.Struct, kw_only=True):
    intercept: Stat
    slope: Stat
    slope_p: Stat
    converged: bool


class ValidityOut(msgspec.Struct, kw_only=True):
    round: str
    # a template dimension, or "overall" (the recommendation)
    dimension: str
    n: int
    binary: bool
    n_positive: int
    point_biserial: Stat
    point_biserial_p: Stat
    point_biserial_ci95_low: Stat
    point_biserial_ci95_high: Stat
    auc: Stat
    auc_ci95_low: Stat
    auc_ci95_high: Stat
    logistic: LogisticOut | UnsetType = UNSET
    pearson: Stat
    pearson_p: Stat
    pearson_ci95_low: Stat
    pearson_ci95_high: Stat
    spearman: Stat
    warnings: list[str]


class RebuildOut(msgspec.Struct, kw_only=True):
    keys_rebuilt: int
    # keys whose stored incremental state disagreed with the recomputation
    keys_changed: list[str]


class DemographicsOut(msgspec.Struct):
    candidate_id: str
    attributes: dict[str, str]


class GroupImpactOut(msgspec.Struct, kw_only=True):
    category: str
    selected: int
    total: int
    rate: Stat
    impact_ratio: Stat
    # adverse | none | "" (the reference or an excluded category)
    adverse_impact: str
    fisher_p: Stat
    # "" | below_min_share | unknown
    excluded: str


class ImpactTableOut(msgspec.Struct, kw_only=True):
    # an attribute ("sex") or an intersection ("sex x race")
    attribute: str
    reference: str
    n: int
    groups: list[GroupImpactOut]


class AdverseImpactOut(msgspec.Struct, kw_only=True):
    # selection rates from recorded decisions (EEOC four-fifths)
    selection: list[ImpactTableOut]
    # NYC LL144 scoring rates
    scoring: list[ImpactTableOut]
    median_score: Stat
    candidates_scored: int


TemplatesPage = Annotated[Page[TemplateOut], KwargDefinition(schema_component_key="TemplatesPage")]
OwedScorecardsPage = Annotated[
    Page[OwedScorecardOut], KwargDefinition(schema_component_key="OwedScorecardsPage")
]
StatisticsKeysOut = Annotated[
    Items[StatisticsKeyOut], KwargDefinition(schema_component_key="StatisticsKeysOut")
]
DimensionStatisticsListOut = Annotated[
    Items[DimensionStatisticsOut], KwargDefinition(schema_component_key="DimensionStatisticsListOut")
]
ValidityResultsOut = Annotated[Items[ValidityOut], KwargDefinition(schema_component_key="ValidityResultsOut")]
