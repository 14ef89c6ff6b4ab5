"""Scorecards: one interviewer's ratings of one interview, filled against a template version.

A scorecard moves draft -> submitted. After submission nothing is overwritten: an amendment is a new
version carrying who amended it, when and why, and the previous versions remain. The blind rule keeps an
interviewer from seeing colleagues' scorecards on a candidate until they have submitted their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from .errors import ValidationError
from .templates import GREENHOUSE_LABELS, ScorecardTemplate, TemplateRef


class ScorecardState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class Recommendation(StrEnum):
    """Overall recommendation, Greenhouse's five labels in order (ordinal 1..5)."""

    DEFINITELY_NOT = "definitely_not"
    NO = "no"
    MIXED = "mixed"
    YES = "yes"
    STRONG_YES = "strong_yes"

    @property
    def ordinal(self) -> int:
        return GREENHOUSE_LABELS.index(self.value) + 1


class Role(StrEnum):
    INTERVIEWER = "interviewer"
    COMPLIANCE = "compliance"
    ADMIN = "admin"


@dataclass(frozen=True)
class Rating:
    dimension: str
    value: int | str  # a number on a numeric scale or a label on a label scale
    evidence: str = ""


@dataclass(frozen=True)
class Amendment:
    by: str
    at: datetime
    reason: str
    previous_version: int


@dataclass(frozen=True)
class Scorecard:
    scorecard_id: str
    interview_id: str
    candidate_id: str
    interviewer_id: str
    template: TemplateRef
    ratings: tuple[Rating, ...] = ()
    overall: Recommendation | None = None
    confidence: int | None = None  # interviewer's self-reported confidence, 1..5
    interview_ended_at: datetime | None = None
    submitted_at: datetime | None = None
    state: ScorecardState = ScorecardState.DRAFT
    version: int = 1
    amendment: Amendment | None = None  # set on every version after the first submitted one

    @property
    def time_to_feedback(self) -> timedelta | None:
        if self.submitted_at is None or self.interview_ended_at is None:
            return None
        return self.submitted_at - self.interview_ended_at

    def rating(self, dimension: str) -> Rating | None:
        return next((r for r in self.ratings if r.dimension == dimension), None)

    def ordinals(self, template: ScorecardTemplate) -> dict[str, int]:
        """Each rating as its ordinal on the template's scale (labels -> 1..K), for the statistics engine."""
        self._check_template(template)
        return {r.dimension: template.dimension(r.dimension).scale.ordinal(r.value) for r in self.ratings}

    def _check_template(self, template: ScorecardTemplate) -> None:
        if template.ref != self.template:
            raise ValidationError(
                "template", f"scorecard was filled against {self.template}, not {template.ref}"
            )

    def edit(
        self,
        *,
        ratings: Iterable[Rating] | None = None,
        overall: Recommendation | None = None,
        confidence: int | None = None,
    ) -> Scorecard:
        """Change a draft (a new object; drafts have no history to keep)."""
        if self.state is not ScorecardState.DRAFT:
            raise ValidationError(
                "state", "a submitted scorecard cannot be edited; use amend() with a reason"
            )
        return replace(
            self,
            ratings=tuple(ratings) if ratings is not None else self.ratings,
            overall=overall if overall is not None else self.overall,
            confidence=confidence if confidence is not None else self.confidence,
        )

    def submit(self, template: ScorecardTemplate, at: datetime) -> Scorecard:
        """Validate against the template and move draft -> submitted."""
        if self.state is not ScorecardState.DRAFT:
            raise ValidationError("state", f"only a draft can be submitted, this one is {self.state.value}")
        _require_aware("submitted_at", at)
        if self.interview_ended_at is not None and at < self.interview_ended_at:
            raise ValidationError(
                "submitted_at",
                f"must not be before the interview ended ({self.interview_ended_at.isoformat()})",
            )
        validate_complete(self, template)
        return replace(self, state=ScorecardState.SUBMITTED, submitted_at=at)

    def amend(
        self,
        template: ScorecardTemplate,
        *,
        by: str,
        at: datetime,
        reason: str,
        ratings: Iterable[Rating] | None = None,
        overall: Recommendation | None = None,
        confidence: int | None = None,
    ) -> Scorecard:
        """A new submitted version recording who changed it, when and why; this version is untouched."""
        if self.state is not ScorecardState.SUBMITTED:
            raise ValidationError(
                "state", "only a submitted scorecard can be amended; edit the draft instead"
            )
        if not reason.strip():
            raise ValidationError("reason", "say why the scorecard is being amended")
        if not by:
            raise ValidationError("by", "must identify who is amending the scorecard")
        _require_aware("at", at)
        new = replace(
            self,
            ratings=tuple(ratings) if ratings is not None else self.ratings,
            overall=overall if overall is not None else self.overall,
            confidence=confidence if confidence is not None else self.confidence,
            version=self.version + 1,
            amendment=Amendment(by=by, at=at, reason=reason, previous_version=self.version),
        )
        validate_complete(new, template)
        return new


def _require_aware(name: str, at: datetime) -> None:
    if at.tzinfo is None:
        raise ValidationError(name, "must be timezone-aware (UTC)")


def new_scorecard(
    *,
    scorecard_id: str,
    interview_id: str,
    candidate_id: str,
    interviewer_id: str,
    template: ScorecardTemplate,
    interview_ended_at: datetime | None = None,
) -> Scorecard:
    """An empty draft bound to a template version."""
    for name, value in (
        ("scorecard_id", scorecard_id),
        ("interview_id", interview_id),
        ("candidate_id", candidate_id),
        ("interviewer_id", interviewer_id),
    ):
        if not value:
            raise ValidationError(name, "must be a non-empty identifier")
    if interview_ended_at is not None:
        _require_aware("interview_ended_at", interview_ended_at)
    return Scorecard(
        scorecard_id,
        interview_id,
        candidate_id,
        interviewer_id,
        template.ref,
        interview_ended_at=interview_ended_at,
    )


def validate_complete(card: Scorecard, template: ScorecardTemplate) -> None:
    """Every dimension rated once, on scale, with evidence where required; overall and confidence set."""
    card._check_template(template)
    keys = {d.key for d in template.dimensions}
    seen: set[str] = set()
    for i, r in enumerate(card.ratings):
        where = f"ratings[{i}]"
        if r.dimension not in keys:
            raise ValidationError(
                f"{where}.dimension", f"unknown dimension {r.dimension!r}; expected one of {sorted(keys)}"
            )
        if r.dimension in seen:
            raise ValidationError(f"{where}.dimension", f"{r.dimension!r} is rated twice; rate it once")
        seen.add(r.dimension)
        dim = template.dimension(r.dimension)
        dim.scale.ordinal(r.value, f"{where}.value")
        if dim.evidence_required and not r.evidence.strip():
            raise ValidationError(
                f"{where}.evidence", f"{dim.name!r} requires written evidence for the rating"
            )
    missing = [d.key for d in template.dimensions if d.key not in seen]
    if missing:
        raise ValidationError("ratings", f"missing ratings for {missing}; rate every dimension")
    if card.overall is None:
        raise ValidationError("overall", f"choose an overall recommendation: {list(GREENHOUSE_LABELS)}")
    if card.confidence is not None and not 1 <= card.confidence <= 5:
        raise ValidationError("confidence", f"must be from 1 to 5, got {card.confidence}")


@dataclass(frozen=True)
class Viewer:
    user_id: str
    roles: frozenset[Role]


@dataclass(frozen=True)
class AccessDecision:
    allowed: bool
    reason: str


def may_view(viewer: Viewer, target: Scorecard, candidate_scorecards: Iterable[Scorecard]) -> AccessDecision:
    """The blind rule: may `viewer` see `target`, given all scorecards on the same candidate?

    Compliance and admin roles may always see; everyone sees their own; an interviewer sees a colleague's
    submitted scorecard only after submitting their own on that candidate; drafts stay private.
    """
    if viewer.roles & {Role.COMPLIANCE, Role.ADMIN}:
        return AccessDecision(True, "compliance/admin role")
    if target.interviewer_id == viewer.user_id:
        return AccessDecision(True, "own scorecard")
    if target.state is not ScorecardState.SUBMITTED:
        return AccessDecision(False, "other interviewers' drafts are never shown")
    own = [
        c
        for c in candidate_scorecards
        if c.interviewer_id == viewer.user_id and c.candidate_id == target.candidate_id
    ]
    if not own:
        return AccessDecision(False, "viewer has no scorecard for this candidate")
    if any(c.state is ScorecardState.SUBMITTED for c in own):
        return AccessDecision(True, "viewer has submitted their own scorecard")
    return AccessDecision(False, "submit your own scorecard first")


def latest_versions(history: Iterable[Scorecard]) -> Mapping[str, Scorecard]:
    """The newest version of each scorecard id (amendment history stays in `history`)."""
    out: dict[str, Scorecard] = {}
    for card in history:
        cur = out.get(card.scorecard_id)
        if cur is None or card.version > cur.version:
            out[card.scorecard_id] = card
    return out
