"""Scorecards: drafts, submission, amendments and the blind rule. A submission or amendment updates the
statistics accumulators and announces `scorecard.submitted` in the same tenant transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg
from interloop.events.v1 import scorecard_pb2 as epb
from interloop_common import outbox
from interloop_common.clock import utc_now
from interloop_common.db import tenant_tx
from interloop_common.errors import Conflict, FieldViolations, Forbidden, NotFound
from interloop_common.rpc import ts

from interloop_scorecard.domain.errors import ValidationError
from interloop_scorecard.domain.scorecards import (
    Rating,
    Recommendation,
    Role,
    Scorecard,
    ScorecardState,
    Viewer,
    may_view,
    new_scorecard,
)
from interloop_scorecard.domain.templates import GREENHOUSE_LABELS, Dimension, ScaleKind, ScorecardTemplate
from interloop_scorecard.store import expected, stats, templates
from interloop_scorecard.store import scorecards as cards
from interloop_scorecard.store.scorecards import StoredCard
from interloop_scorecard.usecases import SOURCE


@dataclass(frozen=True)
class RatingIn:
    dimension: str
    score: float | None = None
    label: str = ""
    evidence: str = ""


@dataclass(frozen=True)
class CardIn:
    booking_id: str = ""
    interviewer_id: str = ""
    scorecard_id: str = ""
    template_id: str = ""
    ratings: tuple[RatingIn, ...] = ()
    recommendation: str = ""
    confidence: float | None = None
    has_content: bool = field(default=True)


@dataclass(frozen=True)
class ScorecardPage:
    scorecards: list[StoredCard]  # the ones the viewer may see
    next_after: str  # the scorecard id to continue after; "" on the last page
    hidden: int  # how many on this page the blind rule withheld


# -- input against the template ----------------------------------------------------------------------


def _value(dim: Dimension, r: RatingIn, where: str) -> int | str:
    if dim.scale.kind is ScaleKind.LABELS:
        if r.label:
            return r.label
        if r.score is not None and float(r.score).is_integer() and 1 <= r.score <= len(dim.scale.labels):
            return dim.scale.labels[int(r.score) - 1]
        raise ValidationError(f"{where}.label", f"must be one of {list(dim.scale.labels)}")
    if r.label:
        raise ValidationError(f"{where}.score", f"{dim.key!r} is numeric: give a score, not a label")
    if r.score is None:
        raise ValidationError(f"{where}.score", f"required: {dim.scale.minimum}..{dim.scale.maximum}")
    return int(r.score) if float(r.score).is_integer() else r.score  # type: ignore[return-value]


def _ratings(template: ScorecardTemplate, given: Sequence[RatingIn]) -> tuple[Rating, ...]:
    out = []
    keys = [d.key for d in template.dimensions]
    for i, r in enumerate(given):
        where = f"ratings[{i}]"
        if r.dimension not in keys:
            raise ValidationError(
                f"{where}.dimension", f"unknown dimension {r.dimension!r}; expected one of {keys}"
            )
        dim = template.dimension(r.dimension)
        value = _value(dim, r, where)
        dim.scale.ordinal(value, f"{where}.{'label' if isinstance(value, str) else 'score'}")
        out.append(Rating(r.dimension, value, r.evidence))
    return tuple(out)


def _recommendation(value: str) -> Recommendation | None:
    if not value:
        return None
    try:
        return Recommendation(value)
    except ValueError:
        raise ValidationError(
            "recommendation", f"must be one of {list(GREENHOUSE_LABELS)}, got {value!r}"
        ) from None


def _confidence(value: float | None) -> int | None:
    if value is None or value == 0:
        return None
    if not float(value).is_integer() or not 1 <= value <= 5:
        raise ValidationError("confidence", f"must be a whole number from 1 to 5, got {value}")
    return int(value)


def _scores(template: ScorecardTemplate, card: Scorecard) -> tuple[dict[str, float], dict[str, str]]:
    scores, labels = {}, {}
    for r in card.ratings:
        dim = template.dimension(r.dimension)
        scores[r.dimension] = float(dim.scale.ordinal(r.value))
        if isinstance(r.value, str):
            labels[r.dimension] = r.value
    return scores, labels


async def _template_of(conn: asyncpg.Connection, tenant_id: str, card: Scorecard) -> ScorecardTemplate:
    t = await templates.get(conn, tenant_id, card.template.template_id, card.template.version)
    if t is None:  # cannot happen: templates are never deleted
        raise Conflict(f"template {card.template} of scorecard {card.scorecard_id} is missing")
    return t


def _check_actor(actor_id: str, interviewer_id: str) -> None:
    if actor_id and actor_id != interviewer_id:
        raise Forbidden(f"{actor_id!r} cannot write {interviewer_id!r}'s scorecard")


# -- drafts, submission, amendments -------------------------------------------------------------------


async def save_draft(
    pool: asyncpg.Pool, tenant_id: str, inp: CardIn, *, actor_id: str, now: datetime | None = None
) -> StoredCard:
    """Create or edit the draft of (interview, interviewer)."""
    async with tenant_tx(pool, tenant_id) as conn:
        return await _save_draft(conn, tenant_id, inp, actor_id=actor_id, now=now or utc_now())


async def _save_draft(
    conn: asyncpg.Connection, tenant_id: str, inp: CardIn, *, actor_id: str, now: datetime
) -> StoredCard:
    existing = await _find(conn, tenant_id, inp)
    if existing is not None:
        _check_actor(actor_id, existing.card.interviewer_id)
        if existing.card.state is ScorecardState.SUBMITTED:
            raise Conflict(
                f"scorecard {existing.card.scorecard_id} is submitted; amend it with a reason instead"
            )
        return await _write_draft(conn, tenant_id, existing, inp)
    _check_actor(actor_id, inp.interviewer_id)
    return await _new_draft(conn, tenant_id, inp, now)


async def _find(conn: asyncpg.Connection, tenant_id: str, inp: CardIn) -> StoredCard | None:
    if inp.scorecard_id:
        found = await cards.latest(conn, tenant_id, inp.scorecard_id)
        if found is None:
            raise NotFound(f"no scorecard {inp.scorecard_id!r}")
        return found
    missing = []
    if not inp.booking_id:
        missing.append(("scorecard.booking_id", "required: the interview (booking) being scored"))
    if not inp.interviewer_id:
        missing.append(("scorecard.interviewer_id", "required: who interviewed"))
    if missing:
        raise FieldViolations(missing)
    return await cards.for_interview(conn, tenant_id, inp.booking_id, inp.interviewer_id)


async def _new_draft(conn: asyncpg.Connection, tenant_id: str, inp: CardIn, now: datetime) -> StoredCard:
    exp = await expected.get(conn, tenant_id, inp.booking_id, inp.interviewer_id)
    if exp is None or exp["status"] == "cancelled":
        raise Conflict(
            f"interview {inp.booking_id!r} with interviewer {inp.interviewer_id!r} is not a held or "
            "scheduled interview known to the scorecard service "
            "(was it booked, and is the interviewer on its panel?)"
        )
    if inp.template_id:
        template = await templates.get(conn, tenant_id, inp.template_id)
        if template is None:
            raise FieldViolations([("scorecard.template_id", f"no template {inp.template_id!r}")])
    else:
        template = await templates.latest_for(conn, tenant_id, exp["job_id"], exp["round"])
        if template is None:
            raise Conflict(
                f"no scorecard template for job {exp['job_id']!r} round {exp['round']!r}; create one first"
            )
    draft = new_scorecard(
        scorecard_id=str(uuid.uuid4()),
        interview_id=inp.booking_id,
        candidate_id=exp["candidate_id"],
        interviewer_id=inp.interviewer_id,
        template=template,
        interview_ended_at=exp["interview_end"],
    )
    card = _edited(draft, template, inp)
    scores, labels = _scores(template, card)
    await cards.write(
        conn,
        tenant_id,
        card,
        job_id=exp["job_id"],
        round=exp["round"],
        scores=scores,
        labels=labels,
        insert=True,
    )
    return StoredCard(card, exp["job_id"], exp["round"], scores, now, None)


def _edited(card: Scorecard, template: ScorecardTemplate, inp: CardIn) -> Scorecard:
    if not inp.has_content:
        return card
    try:
        return card.edit(
            ratings=_ratings(template, inp.ratings),
            overall=_recommendation(inp.recommendation),
            confidence=_confidence(inp.confidence),
        )
    except ValidationError as exc:
        raise exc.under("scorecard.") from None


async def _write_draft(
    conn: asyncpg.Connection, tenant_id: str, existing: StoredCard, inp: CardIn
) -> StoredCard:
    template = await _template_of(conn, tenant_id, existing.card)
    card = _edited(existing.card, template, inp)
    scores, labels = _scores(template, card)
    await cards.write(
        conn,
        tenant_id,
        card,
        job_id=existing.job_id,
        round=existing.round,
        scores=scores,
        labels=labels,
        insert=False,
    )
    return StoredCard(card, existing.job_id, existing.round, scores, existing.created_at, None)


async def submit(
    pool: asyncpg.Pool, tenant_id: str, inp: CardIn, *, actor_id: str, now: datetime | None = None
) -> StoredCard:
    """Validate against the template, move draft -> submitted, update statistics, announce it."""
    now = now or utc_now()
    async with tenant_tx(pool, tenant_id) as conn:
        draft = await _save_draft(conn, tenant_id, inp, actor_id=actor_id, now=now)
        template = await _template_of(conn, tenant_id, draft.card)
        try:
            card = draft.card.submit(template, now)
        except ValidationError as exc:
            raise exc.under("scorecard.") from None
        scores, labels = _scores(template, card)
        await cards.write(
            conn,
            tenant_id,
            card,
            job_id=draft.job_id,
            round=draft.round,
            scores=scores,
            labels=labels,
            insert=False,
        )
        await expected.mark_submitted(conn, tenant_id, card.interview_id, card.interviewer_id)
        await expected.bump_activity(conn, tenant_id, scorecards=1)
        await _update_stats(conn, tenant_id, draft.job_id, draft.round, card, template, add=scores, remove={})
        stored = StoredCard(card, draft.job_id, draft.round, scores, draft.created_at, card.submitted_at)
        await _announce(conn, tenant_id, stored)
    return stored


async def amend(
    pool: asyncpg.Pool,
    tenant_id: str,
    scorecard_id: str,
    *,
    ratings: Sequence[RatingIn] | None,
    recommendation: str,
    confidence: float | None,
    by: str,
    reason: str,
    now: datetime | None = None,
) -> StoredCard:
    """A new version with who/when/why; statistics drop the old version's ratings and add the new ones."""
    now = now or utc_now()
    async with tenant_tx(pool, tenant_id) as conn:
        current = await cards.latest(conn, tenant_id, scorecard_id)
        if current is None:
            raise NotFound(f"no scorecard {scorecard_id!r}")
        template = await _template_of(conn, tenant_id, current.card)
        new = current.card.amend(
            template,
            by=by,
            at=now,
            reason=reason,
            ratings=_ratings(template, ratings) if ratings else None,
            overall=_recommendation(recommendation),
            confidence=_confidence(confidence),
        )
        scores, labels = _scores(template, new)
        await cards.write(
            conn,
            tenant_id,
            new,
            job_id=current.job_id,
            round=current.round,
            scores=scores,
            labels=labels,
            insert=True,
        )
        await _update_stats(
            conn, tenant_id, current.job_id, current.round, new, template, add=scores, remove=current.scores
        )
        stored = StoredCard(new, current.job_id, current.round, scores, now, current.first_submitted_at)
        await _announce(conn, tenant_id, stored)
    return stored


async def _update_stats(
    conn: asyncpg.Connection,
    tenant_id: str,
    job_id: str,
    round: str,
    card: Scorecard,
    template: ScorecardTemplate,
    *,
    add: dict[str, float],
    remove: dict[str, float],
) -> None:
    keys = [(job_id, round, d) for d in {*add, *remove}]
    states = await stats.lock(conn, tenant_id, keys)
    for dim, score in remove.items():
        states[(job_id, round, dim)].remove(card.candidate_id, card.interviewer_id, score)
    for dim, score in add.items():
        scale = template.dimension(dim).scale
        states[(job_id, round, dim)].add(
            card.candidate_id, card.interviewer_id, score, (scale.minimum, scale.maximum)
        )
    await stats.save(conn, tenant_id, states)


def time_to_feedback(stored: StoredCard) -> float | None:
    first = stored.first_submitted_at or stored.card.submitted_at
    end = stored.card.interview_ended_at
    return (first - end).total_seconds() if first and end else None


async def _announce(conn: asyncpg.Connection, tenant_id: str, stored: StoredCard) -> None:
    c = stored.card
    ttf = time_to_feedback(stored)
    await outbox.stage(
        conn,
        type="scorecard.submitted",
        source=SOURCE,
        tenant_id=tenant_id,
        subject=f"scorecard/{c.scorecard_id}",
        payload=epb.ScorecardSubmitted(
            scorecard_id=c.scorecard_id,
            booking_id=c.interview_id,
            interviewer_id=c.interviewer_id,
            candidate_id=c.candidate_id,
            recommendation=c.overall.value if c.overall else "",
            submitted_at=ts(c.amendment.at if c.amendment else c.submitted_at),
            version=c.version,  # type: ignore[arg-type]
            job_id=stored.job_id,
            round=stored.round,
            template_id=c.template.template_id,
            template_version=c.template.version,
            amended_by=c.amendment.by if c.amendment else "",
            amend_reason=c.amendment.reason if c.amendment else "",
            time_to_feedback_seconds=ttf if ttf is not None else float("nan"),
            ratings=stored.scores,
        ),
        key=f"{tenant_id}/{c.candidate_id}",
    )


# -- reading under the blind rule ---------------------------------------------------------------------


def viewer(viewer_interviewer_id: str, roles: Iterable[str]) -> Viewer:
    """An interviewer identity makes the caller that interviewer (blind rule applies); otherwise only an
    admin or compliance caller may read scorecards."""
    if viewer_interviewer_id:
        return Viewer(viewer_interviewer_id, frozenset({Role.INTERVIEWER}))
    granted = frozenset(Role(r) for r in roles if r in (Role.ADMIN.value, Role.COMPLIANCE.value))
    if not granted:
        raise Forbidden("say which interviewer is asking (viewer_interviewer_id), or call with an admin role")
    return Viewer("", granted)


async def get_scorecard(
    pool: asyncpg.Pool, tenant_id: str, scorecard_id: str, who: Viewer
) -> list[StoredCard]:
    """Every version of a scorecard, oldest first, if `who` may see it."""
    async with tenant_tx(pool, tenant_id) as conn:
        history = await cards.versions(conn, tenant_id, scorecard_id)
        if not history:
            raise NotFound(f"no scorecard {scorecard_id!r}")
        latest = history[-1].card
        decision = may_view(who, latest, await cards.candidate_cards(conn, tenant_id, latest.candidate_id))
    if not decision.allowed:
        raise Forbidden(f"scorecard {scorecard_id} is hidden: {decision.reason}")
    return history


async def list_scorecards(
    pool: asyncpg.Pool,
    tenant_id: str,
    who: Viewer,
    *,
    booking_id: str,
    candidate_id: str,
    after: str,
    limit: int,
) -> ScorecardPage:
    """The latest version of each scorecard of an interview or candidate; the ones `who` may not see are
    counted, not shown."""
    async with tenant_tx(pool, tenant_id) as conn:
        found = await cards.list_latest(
            conn, tenant_id, booking_id=booking_id, candidate_id=candidate_id, after=after, limit=limit + 1
        )
        nxt = found[limit - 1].card.scorecard_id if len(found) > limit else ""
        by_candidate: dict[str, list[Scorecard]] = {}
        shown, hidden = [], 0
        for s in found[:limit]:
            if s.card.candidate_id not in by_candidate:
                by_candidate[s.card.candidate_id] = await cards.candidate_cards(
                    conn, tenant_id, s.card.candidate_id
                )
            if may_view(who, s.card, by_candidate[s.card.candidate_id]).allowed:
                shown.append(s)
            else:
                hidden += 1
    return ScorecardPage(shown, nxt, hidden)
