"""Scorecard templates: per job and interview round, the competency dimensions an interviewer rates.

A template is immutable; `revise()` returns the next version, and scorecards keep the (id, version) they
were filled against, so changing a rubric never rewrites history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from .errors import ValidationError

GREENHOUSE_LABELS: tuple[str, ...] = ("definitely_not", "no", "mixed", "yes", "strong_yes")


class ScaleKind(StrEnum):
    NUMERIC = "numeric"
    LABELS = "labels"


@dataclass(frozen=True)
class RatingScale:
    """Numeric min..max (integer steps) or ordered labels mapped to ordinals 1..K."""

    kind: ScaleKind
    minimum: int = 1
    maximum: int = 5
    labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind is ScaleKind.NUMERIC:
            if self.maximum <= self.minimum:
                raise ValidationError(
                    "scale.maximum", f"must be greater than minimum {self.minimum}, got {self.maximum}"
                )
            if self.labels:
                raise ValidationError("scale.labels", "must be empty for a numeric scale")
        else:
            if len(self.labels) < 2:
                raise ValidationError(
                    "scale.labels", f"need at least two ordered labels, e.g. {list(GREENHOUSE_LABELS)}"
                )
            if len(set(self.labels)) != len(self.labels):
                raise ValidationError("scale.labels", "labels must be distinct")

    @classmethod
    def numeric(cls, minimum: int, maximum: int) -> RatingScale:
        return cls(ScaleKind.NUMERIC, minimum, maximum)

    @classmethod
    def greenhouse(cls) -> RatingScale:
        return cls(ScaleKind.LABELS, 1, len(GREENHOUSE_LABELS), GREENHOUSE_LABELS)

    @classmethod
    def of_labels(cls, labels: Sequence[str]) -> RatingScale:
        return cls(ScaleKind.LABELS, 1, len(labels), tuple(labels))

    @property
    def points(self) -> tuple[int, ...]:
        """Every ordinal on the full scale (the category axis for kappa weights)."""
        return tuple(range(self.minimum, self.maximum + 1))

    def ordinal(self, value: int | str, field_name: str = "value") -> int:
        """The ordinal of a rating value on this scale, or ValidationError saying what is allowed."""
        if self.kind is ScaleKind.LABELS:
            if isinstance(value, str) and value in self.labels:
                return self.labels.index(value) + 1
            raise ValidationError(field_name, f"must be one of {list(self.labels)}, got {value!r}")
        if isinstance(value, bool) or not isinstance(value, int) or not self.minimum <= value <= self.maximum:
            raise ValidationError(
                field_name, f"must be an integer from {self.minimum} to {self.maximum}, got {value!r}"
            )
        return value


@dataclass(frozen=True)
class Anchor:
    """A behavioural anchor: what a given scale point looks like in this competency."""

    point: int
    description: str


@dataclass(frozen=True)
class Dimension:
    key: str
    name: str
    scale: RatingScale
    anchors: tuple[Anchor, ...] = ()
    evidence_required: bool = False


@dataclass(frozen=True)
class TemplateRef:
    template_id: str
    version: int


@dataclass(frozen=True)
class ScorecardTemplate:
    template_id: str
    job_id: str
    round_id: str
    version: int
    dimensions: tuple[Dimension, ...]
    created_at: datetime
    created_by: str = ""

    def __post_init__(self) -> None:
        for name in ("template_id", "job_id", "round_id"):
            if not getattr(self, name):
                raise ValidationError(name, "must be a non-empty identifier")
        if self.version < 1:
            raise ValidationError("version", f"must be 1 or more, got {self.version}")
        if self.created_at.tzinfo is None:
            raise ValidationError("created_at", "must be timezone-aware (UTC)")
        if not self.dimensions:
            raise ValidationError("dimensions", "need at least one competency dimension")
        seen: set[str] = set()
        for i, d in enumerate(self.dimensions):
            where = f"dimensions[{i}]"
            if not d.key:
                raise ValidationError(f"{where}.key", "must be a non-empty key")
            if d.key in seen:
                raise ValidationError(f"{where}.key", f"duplicate key {d.key!r}; keys must be unique")
            seen.add(d.key)
            if not d.name.strip():
                raise ValidationError(f"{where}.name", "must be a non-empty display name")
            points = set(d.scale.points)
            anchor_points = [a.point for a in d.anchors]
            for j, a in enumerate(d.anchors):
                if a.point not in points:
                    raise ValidationError(
                        f"{where}.anchors[{j}].point",
                        f"must be on the scale {d.scale.minimum}..{d.scale.maximum}, got {a.point}",
                    )
                if not a.description.strip():
                    raise ValidationError(f"{where}.anchors[{j}].description", "must describe the behaviour")
            if len(set(anchor_points)) != len(anchor_points):
                raise ValidationError(f"{where}.anchors", "at most one anchor per scale point")

    @property
    def ref(self) -> TemplateRef:
        return TemplateRef(self.template_id, self.version)

    def dimension(self, key: str) -> Dimension:
        for d in self.dimensions:
            if d.key == key:
                return d
        raise ValidationError(
            "dimension", f"unknown dimension {key!r}; expected one of {[d.key for d in self.dimensions]}"
        )

    def revise(
        self, *, at: datetime, by: str, dimensions: Sequence[Dimension] | None = None
    ) -> ScorecardTemplate:
        """The next version with the given changes; this version stays as it was."""
        return replace(
            self,
            version=self.version + 1,
            created_at=at,
            created_by=by,
            dimensions=tuple(dimensions) if dimensions is not None else self.dimensions,
        )
