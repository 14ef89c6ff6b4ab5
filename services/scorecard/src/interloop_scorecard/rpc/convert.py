"""protobuf <-> domain for templates, scorecards and statistics. NaN stands for "undefined" in replies."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from interloop.common.v1 import common_pb2
from interloop.scorecard.v1 import scorecard_pb2 as pb
from interloop_common.rpc import FieldViolations, ts

from interloop_scorecard.domain.errors import ValidationError
from interloop_scorecard.domain.stats.adverse_impact import ImpactTable
from interloop_scorecard.domain.stats.bias_audit import AuditRates, AuditTable, BiasAudit, Scope, Selection
from interloop_scorecard.domain.stats.calibration import Calibration
from interloop_scorecard.domain.stats.state import Reliability, Summary
from interloop_scorecard.domain.stats.validity import BinaryValidity, ContinuousValidity
from interloop_scorecard.domain.templates import Anchor, Dimension, RatingScale, ScaleKind, ScorecardTemplate
from interloop_scorecard.store.scorecards import StoredCard
from interloop_scorecard.usecases.scorecards import CardIn, RatingIn, time_to_feedback
from interloop_scorecard.usecases.statistics import AdverseImpact, ValidityRow

NAN = float("nan")


def num(x: float | Fraction | None) -> float:
    return NAN if x is None or not math.isfinite(float(x)) else float(x)


# -- templates ---------------------------------------------------------------------------------------


def dimensions_in(items: list[pb.Dimension]) -> tuple[Dimension, ...]:
    out = []
    for i, d in enumerate(items):
        where = f"dimensions[{i}]"
        try:
            kind = ScaleKind(d.scale_kind or ("labels" if d.labels else "numeric"))
        except ValueError:
            raise FieldViolations([(f"{where}.scale_kind", "must be 'numeric' or 'labels'")]) from None
        try:
            if kind is ScaleKind.LABELS:
                scale = RatingScale.of_labels(list(d.labels)) if d.labels else RatingScale.greenhouse()
            else:
                scale = (
                    RatingScale.numeric(d.scale_min, d.scale_max)
                    if (d.scale_min or d.scale_max)
                    else RatingScale.numeric(1, 5)
                )
            out.append(
                Dimension(
                    key=d.key,
                    name=d.name,
                    scale=scale,
                    evidence_required=d.evidence_required,
                    anchors=tuple(Anchor(a.point, a.description) for a in d.anchors),
                )
            )
        except ValidationError as exc:
            raise exc.under(f"{where}.") from None
    return tuple(out)


def template_out(t: ScorecardTemplate) -> pb.Template:
    return pb.Template(
        id=t.template_id,
        job_id=t.job_id,
        round=t.round_id,
        version=t.version,
        created_at=ts(t.created_at),
        created_by=t.created_by,
        dimensions=[
            pb.Dimension(
                key=d.key,
                name=d.name,
                scale_kind=d.scale.kind.value,
                scale_min=d.scale.minimum,
                scale_max=d.scale.maximum,
                labels=list(d.scale.labels),
                evidence_required=d.evidence_required,
                anchors=[pb.Anchor(point=a.point, description=a.description) for a in d.anchors],
            )
            for d in t.dimensions
        ],
    )


# -- expected scorecards ------------------------------------------------------------------------------


def expected_out(r: Any) -> pb.ExpectedScorecard:
    return pb.ExpectedScorecard(
        booking_id=r["booking_id"],
        interviewer_id=r["interviewer_id"],
        candidate_id=r["candidate_id"],
        status=r["status"],
        due_at=ts(r["due_at"]) if r["due_at"] else None,
        job_id=r["job_id"],
        round=r["round"],
        overdue=bool(r["overdue"]),
        interview_end=ts(r["interview_end"]) if r["interview_end"] else None,
        scorecard_id=r["scorecard_id"] or "",
    )


# -- scorecards --------------------------------------------------------------------------------------


def ratings_in(items: list[pb.Rating]) -> tuple[RatingIn, ...]:
    return tuple(RatingIn(r.dimension, None if r.label else r.score, r.label, r.evidence) for r in items)


def card_in(c: pb.Scorecard, *, template_id: str = "") -> CardIn:
    return CardIn(
        booking_id=c.booking_id,
        interviewer_id=c.interviewer_id,
        scorecard_id=c.id,
        template_id=c.template_id or template_id,
        ratings=ratings_in(list(c.ratings)),
        recommendation=c.recommendation,
        confidence=c.confidence or None,
        has_content=bool(c.ratings or c.recommendation or c.confidence),
    )


def card_out(s: StoredCard) -> pb.Scorecard:
    c = s.card
    out = pb.Scorecard(
        id=c.scorecard_id,
        booking_id=c.interview_id,
        interviewer_id=c.interviewer_id,
        candidate_id=c.candidate_id,
        ratings=[
            pb.Rating(
                dimension=r.dimension,
                score=s.scores.get(r.dimension, NAN),
                evidence=r.evidence,
                label=r.value if isinstance(r.value, str) else "",
            )
            for r in sorted(c.ratings, key=lambda r: r.dimension)
        ],
        recommendation=c.overall.value if c.overall else "",
        confidence=float(c.confidence or 0),
        version=c.version,
        job_id=s.job_id,
        round=s.round,
        template_id=c.template.template_id,
        template_version=c.template.version,
        status=c.state.value,
        time_to_feedback_seconds=num(time_to_feedback(s)),
        amended_by=c.amendment.by if c.amendment else "",
        amend_reason=c.amendment.reason if c.amendment else "",
        created_at=ts(s.created_at),
    )
    if c.submitted_at:
        out.submitted_at.CopyFrom(ts(c.submitted_at))
    if c.interview_ended_at:
        out.interview_ended_at.CopyFrom(ts(c.interview_ended_at))
    return out


def decision_out(row: Any) -> pb.Decision:
    return pb.Decision(
        candidate_id=row["candidate_id"],
        job_id=row["job_id"],
        decision=row["decision"],
        decided_by=row["decided_by"],
        reason=row["reason"],
        decided_at=ts(row["decided_at"]),
    )


# -- statistics --------------------------------------------------------------------------------------


def statistics_key_out(r: Any) -> pb.StatisticsKey:
    return pb.StatisticsKey(
        job_id=r["job_id"],
        round=r["round"],
        dimension=r["dimension"],
        n_ratings=r["n_ratings"],
        updated_at=ts(r["updated_at"]),
    )


def raters_out(cal: Calibration) -> list[pb.RaterCalibration]:
    return [
        pb.RaterCalibration(
            interviewer_id=str(r.rater),
            n=r.n,
            n_shared=r.n_shared,
            leniency=num(r.leniency),
            leniency_shrunk=num(r.leniency_shrunk),
            erratic=num(r.erratic),
            agreement=num(r.agreement),
            low_n="insufficient_n" in r.flags,
            flags=list(r.flags),
        )
        for r in cal.raters
    ]


def reliability_out(rel: Reliability) -> pb.ComputeReliabilityResponse:
    out = pb.ComputeReliabilityResponse(
        n_subjects=rel.n_subjects,
        n_raters=rel.n_raters,
        n_ratings=rel.n_ratings,
        krippendorff_alpha_interval=num(rel.alpha.get("interval")),
        krippendorff_alpha_ordinal=num(rel.alpha.get("ordinal")),
        raters=raters_out(rel.calibration),
        icc_note=rel.icc.note or "",
        fleiss_kappa=num(rel.fleiss_kappa),
        gwet_ac1=num(rel.gwet_ac1),
        gwet_ac2_linear=num(rel.gwet_ac2_linear),
        gwet_ac2_quadratic=num(rel.gwet_ac2_quadratic),
        scale_points=list(rel.scale_points),
    )
    if rel.n_ratings < 2:
        out.note = "fewer than two ratings: nothing to compare yet"
    for name, f in (rel.icc.forms or {}).items():
        out.icc.append(
            pb.IccEstimate(
                form=name,
                value=num(f.value),
                ci95_low=num(f.ci95[0]),
                ci95_high=num(f.ci95[1]),
                f=num(f.F),
                df1=f.df1,
                df2=f.df2,
                p=num(f.p),
            )
        )
    for level, value in rel.alpha.items():
        ci = rel.alpha_ci.get(level)
        out.alpha.append(
            pb.AlphaEstimate(
                level=level,
                value=num(value),
                ci95_low=num(ci.ci95[0]) if ci else NAN,
                ci95_high=num(ci.ci95[1]) if ci else NAN,
                bootstrap_samples=ci.n_boot if ci else 0,
            )
        )
    for p, lin, quad in rel.cohen_pairs:
        out.cohen_pairs.append(
            pb.CohenPair(
                interviewer_a=str(p.rater_a),
                interviewer_b=str(p.rater_b),
                n=p.n,
                kappa=num(p.kappa),
                kappa_linear=num(lin),
                kappa_quadratic=num(quad),
            )
        )
    return out


def summary_out(dimension: str, s: Summary) -> pb.DimensionStatistics:
    return pb.DimensionStatistics(
        dimension=dimension,
        n=s.n,
        mean=num(s.mean),
        sd=num(s.sd),
        distribution=[pb.ScoreCount(point=p, count=c) for p, c in s.distribution.items()],
        within_candidate_sd=num(s.within_candidate_sd),
        alpha_ordinal=num(s.alpha_ordinal),
        disagreements=[
            pb.CandidateDisagreement(
                candidate_id=d.candidate_id, n=d.n, sd=d.sd, min=d.minimum, max=d.maximum
            )
            for d in s.disagreements
        ],
    )


def validity_out(v: ValidityRow) -> pb.ValidityResult:
    r = v.result
    out = pb.ValidityResult(
        round=v.round, dimension=v.dimension, n=r.n, binary=v.binary, warnings=list(r.warnings)
    )
    nan2 = (NAN, NAN)
    if isinstance(r, BinaryValidity):
        ci, auc_ci = r.point_biserial_ci95 or nan2, r.auc_ci95 or nan2
        out.n_positive = r.n_positive
        out.point_biserial, out.point_biserial_p = num(r.point_biserial), num(r.point_biserial_p)
        out.point_biserial_ci95_low, out.point_biserial_ci95_high = num(ci[0]), num(ci[1])
        out.auc, out.auc_ci95_low, out.auc_ci95_high = num(r.auc), num(auc_ci[0]), num(auc_ci[1])
        out.pearson = out.pearson_p = out.pearson_ci95_low = out.pearson_ci95_high = out.spearman = NAN
        if r.logistic:
            out.logistic.CopyFrom(
                pb.LogisticCoefficients(
                    intercept=r.logistic.coef[0],
                    slope=r.logistic.coef[1],
                    slope_p=num(r.logistic.p[1]),
                    converged=r.logistic.converged,
                )
            )
    elif isinstance(r, ContinuousValidity):
        ci = r.pearson_ci95 or nan2
        out.pearson, out.pearson_p, out.spearman = num(r.pearson), num(r.pearson_p), num(r.spearman)
        out.pearson_ci95_low, out.pearson_ci95_high = num(ci[0]), num(ci[1])
        out.point_biserial = out.point_biserial_p = out.point_biserial_ci95_low = NAN
        out.point_biserial_ci95_high = out.auc = out.auc_ci95_low = out.auc_ci95_high = NAN
    return out


def _tables(tables: dict[str, ImpactTable]) -> list[pb.ImpactTable]:
    return [
        pb.ImpactTable(
            attribute=name,
            reference=t.reference or "",
            n=t.n,
            groups=[
                pb.GroupImpact(
                    category=g.category,
                    selected=g.selected,
                    total=g.total,
                    rate=num(g.rate),
                    impact_ratio=num(g.impact_ratio),
                    adverse_impact=""
                    if g.adverse_impact is None
                    else ("adverse" if g.adverse_impact else "none"),
                    fisher_p=num(g.fisher_p),
                    excluded=g.excluded or "",
                )
                for g in t.groups
            ],
        )
        for name, t in tables.items()
    ]


def impact_out(a: AdverseImpact) -> pb.GetAdverseImpactResponse:
    return pb.GetAdverseImpactResponse(
        selection=_tables(a.selection),
        scoring=_tables(a.scoring),
        median_score=num(a.median_score),
        candidates_scored=a.candidates_scored,
    )


# -- NYC LL144 bias audit ------------------------------------------------------------------------------

AUDIT_SCOPES = {
    pb.BIAS_AUDIT_SCOPE_TENANT: Scope.TENANT,
    pb.BIAS_AUDIT_SCOPE_JOB: Scope.JOB,
    pb.BIAS_AUDIT_SCOPE_ROUND: Scope.ROUND,
}
_SCOPES_OUT = {v: k for k, v in AUDIT_SCOPES.items()}
_SELECTIONS_OUT = {
    Selection.ADVANCED_OR_HIRED: pb.BIAS_AUDIT_SELECTION_ADVANCED_OR_HIRED,
    Selection.HIRED: pb.BIAS_AUDIT_SELECTION_HIRED,
}
AUDIT_SELECTIONS = {
    pb.BIAS_AUDIT_SELECTION_UNSPECIFIED: Selection.ADVANCED_OR_HIRED,
    **{v: k for k, v in _SELECTIONS_OUT.items()},
}


def _audit_table(t: AuditTable) -> pb.BiasAuditTable:
    ref = t.impact.reference
    return pb.BiasAuditTable(
        dimension=t.dimension,
        known=t.known,
        unknown=t.unknown,
        reference=ref or "",
        categories=[
            pb.BiasAuditCategory(
                category=g.category,
                total=g.total,
                selected=g.selected,
                rate=num(g.rate),
                share=num(t.share(g)),
                impact_ratio=num(g.impact_ratio),
                reference=g.category == ref,
                below_four_fifths=t.below_four_fifths(g),
                excluded=g.excluded is not None,
                fisher_p=num(g.fisher_p),
            )
            for g in t.impact.groups
        ],
    )


def _audit_rates(r: AuditRates) -> pb.BiasAuditRates:
    out = pb.BiasAuditRates(
        total=r.total,
        sex=_audit_table(r.sex),
        race=_audit_table(r.race),
        intersection=_audit_table(r.intersection),
        median_score=num(r.median_score),
    )
    if r.first_at is not None and r.last_at is not None:
        out.first_at.CopyFrom(ts(r.first_at))
        out.last_at.CopyFrom(ts(r.last_at))
    return out


def bias_audit_out(a: BiasAudit) -> pb.BiasAuditReport:
    q = a.request
    return pb.BiasAuditReport(
        scope=_SCOPES_OUT[q.scope],
        job_id=q.job_id,
        round=q.round,
        requested_period=common_pb2.TimeRange(start=ts(q.start), end=ts(q.end)),
        selection=_SELECTIONS_OUT[q.selection],
        selection_rates=_audit_rates(a.selection),
        scoring_rates=_audit_rates(a.scoring),
        min_share=float(a.min_share),
        four_fifths=float(a.four_fifths),
        generated_at=ts(a.generated_at),
    )
