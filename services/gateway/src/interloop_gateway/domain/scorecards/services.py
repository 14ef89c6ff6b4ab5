"""protobuf <-> REST for templates, scorecards, statistics and compliance data."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from google.protobuf import json_format
from google.protobuf.message import Message
from interloop.scorecard.v1 import scorecard_pb2 as cpb
from litestar import Request

from interloop_gateway.auth import principal_of
from interloop_gateway.domain.scorecards import schemas
from interloop_gateway.problems import problem

INTERVIEWER_HEADER = "x-interviewer-id"
T = TypeVar("T")


def _json(msg: Message) -> dict[str, Any]:
    return json_format.MessageToDict(
        msg, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def _as(value: dict[str, Any], out: type[T]) -> T:
    # Lax: protobuf JSON spells an undefined statistic "NaN" (or "Infinity"); a float field reads it as
    # the float, which the JSON encoder writes as null.
    return msgspec.convert(value, out, strict=False)


def to_out(msg: Message, out: type[T]) -> T:
    """A scorecard-service message as its response struct."""
    return _as(_json(msg), out)


def interviewer_of(request: Request) -> str:
    """Who is asking, for the blind rule. A key bound to an interviewer IS that interviewer (a header
    naming anyone else is refused); only admin keys may act for an interviewer named in the header."""
    principal = principal_of(request)
    claimed = request.headers.get(INTERVIEWER_HEADER, "").strip()
    if principal.interviewer_id:
        if claimed and claimed != principal.interviewer_id:
            raise problem(
                403, f"this key belongs to interviewer {principal.interviewer_id!r}, not {claimed!r}"
            )
        return principal.interviewer_id
    if claimed and "admin" not in principal.scopes:
        raise problem(
            403,
            f"only admin keys may act for an interviewer via {INTERVIEWER_HEADER.title()}; "
            "use the interviewer's own key",
        )
    return claimed


def roles_of(request: Request) -> list[str]:
    return [s for s in principal_of(request).scopes if s in ("admin", "compliance")]


def acting(request: Request, interviewer_id: str) -> str:
    """The actor of a scorecard write: the interviewer themselves, or an admin key acting for them."""
    me = interviewer_of(request)
    if me:
        if me != interviewer_id:
            raise problem(403, f"interviewer {me!r} cannot write {interviewer_id!r}'s scorecard")
        return me
    if "admin" not in principal_of(request).scopes:
        raise problem(
            403,
            "scorecards are written with the interviewer's own key (or an admin key acting for them via "
            f"{INTERVIEWER_HEADER.title()})",
        )
    return ""


def owed_by(request: Request, asked: str) -> str:
    """Whose owed scorecards a list shows: an interviewer key sees only its own (naming another
    interviewer is refused); admin and recruiter keys see anyone's, or everyone's."""
    principal = principal_of(request)
    if set(principal.scopes) & {"admin", "recruiter"}:
        return asked or interviewer_of(request)
    me = interviewer_of(request)
    if not me:
        raise problem(403, "this interviewer key is bound to no interviewer; issue one with --interviewer")
    if asked and asked != me:
        raise problem(403, f"interviewer {me!r} sees only their own owed scorecards, not {asked!r}'s")
    return me


def dimension_pb(d: schemas.DimensionIn) -> cpb.Dimension:
    return cpb.Dimension(
        key=d.key,
        name=d.name,
        scale_kind=d.scale.kind,
        scale_min=d.scale.min,
        scale_max=d.scale.max,
        labels=d.scale.labels,
        evidence_required=d.evidence_required,
        anchors=[cpb.Anchor(point=a.point, description=a.description) for a in d.anchors],
    )


def ratings_pb(items: list[schemas.RatingIn]) -> list[cpb.Rating]:
    return [
        cpb.Rating(
            dimension=r.dimension,
            score=r.score if r.score is not None else 0.0,
            label=r.label,
            evidence=r.evidence,
        )
        for r in items
    ]


def scorecard_pb(body: schemas.ScorecardIn) -> cpb.Scorecard:
    return cpb.Scorecard(
        booking_id=body.interview_id,
        interviewer_id=body.interviewer_id,
        ratings=ratings_pb(body.ratings),
        recommendation=body.recommendation,
        confidence=float(body.confidence or 0),
        template_id=body.template_id,
    )


def _scorecard(c: cpb.Scorecard) -> dict[str, Any]:
    out = _json(c)
    out["interview_id"] = out.pop("booking_id")
    for key in ("submitted_at", "interview_ended_at"):
        out.setdefault(key, None)
    if c.status == "draft":
        out["submitted_at"] = None
    out["confidence"] = int(c.confidence) or None
    return out


def scorecard_out(c: cpb.Scorecard) -> schemas.ScorecardOut:
    return _as(_scorecard(c), schemas.ScorecardOut)


def scorecard_detail_out(r: cpb.GetScorecardResponse) -> schemas.ScorecardDetailOut:
    return _as(
        {**_scorecard(r.scorecard), "versions": [_scorecard(v) for v in r.versions]},
        schemas.ScorecardDetailOut,
    )


def owed_out(e: cpb.ExpectedScorecard) -> schemas.OwedScorecardOut:
    item = _json(e)
    item["interview_id"] = item.pop("booking_id")
    item.setdefault("due_at", None)
    item.setdefault("interview_end", None)
    return _as(item, schemas.OwedScorecardOut)
