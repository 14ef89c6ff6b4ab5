"""Request bodies of the scorecard resources (responses are the service's messages as JSON, NaN -> null)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class AnchorIn(msgspec.Struct):
    point: int
    description: str


class ScaleIn(msgspec.Struct):
    kind: Literal["numeric", "labels"] = "numeric"
    min: int = 1
    max: int = 5
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
    created_by: str = ""


class TemplateRevisionIn(msgspec.Struct):
    dimensions: list[DimensionIn]
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
    confidence: int | None = None
    template_id: str = ""
    # true: validate and submit now; false: save as a draft
    submit: bool = False


class SubmitIn(msgspec.Struct):
    ratings: list[RatingIn] = []
    recommendation: str = ""
    confidence: int | None = None


class AmendmentIn(msgspec.Struct):
    reason: Text
    ratings: list[RatingIn] = []
    recommendation: str = ""
    confidence: int | None = None
    # who amends; defaults to the X-Interviewer-Id of the caller
    amended_by: str = ""


class DecisionIn(msgspec.Struct):
    candidate_id: Text
    job_id: Text
    decision: Literal["advance", "hire", "reject"]
    decided_by: Text
    reason: str = ""


class DemographicsIn(msgspec.Struct):
    # self-identified categories, e.g. {"sex": "female", "race": "asian"}; "unknown" when declined
    attributes: dict[str, str]
