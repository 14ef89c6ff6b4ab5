"""protobuf <-> REST for the bias-audit report, and its printable page."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from html import escape

from interloop.scorecard.v1 import scorecard_pb2 as cpb

from interloop_gateway.domain.bias_audit import schemas
from interloop_gateway.problems import problem
from interloop_gateway.wire import iso

SCOPES = {
    "tenant": cpb.BIAS_AUDIT_SCOPE_TENANT,
    "job": cpb.BIAS_AUDIT_SCOPE_JOB,
    "round": cpb.BIAS_AUDIT_SCOPE_ROUND,
}
SELECTIONS = {
    "advanced_or_hired": cpb.BIAS_AUDIT_SELECTION_ADVANCED_OR_HIRED,
    "hired": cpb.BIAS_AUDIT_SELECTION_HIRED,
}
SCOPE_NAMES = {v: k for k, v in SCOPES.items()}
SELECTION_NAMES = {v: k for k, v in SELECTIONS.items()}


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise problem(
            400,
            f"{field} must be a date, YYYY-MM-DD",
            extra={"errors": [{"field": field, "detail": "not a YYYY-MM-DD date"}]},
        ) from None


def request_pb(
    tenant_id: str,
    scopes: list[str],
    *,
    scope: str,
    job_id: str,
    round: str,
    from_: str,
    to: str,
    selection: str,
) -> cpb.GetBiasAuditReportRequest:
    """Inclusive dates become the half-open UTC period [from 00:00, to + 1 day 00:00)."""
    start, end = _day(from_, "from"), _day(to, "to")
    req = cpb.GetBiasAuditReportRequest(
        tenant_id=tenant_id,
        scope=SCOPES[scope],
        job_id=job_id,
        round=round,
        selection=SELECTIONS[selection],
        caller_scopes=scopes,
    )
    req.period.start.FromDatetime(datetime.combine(start, time(), UTC))
    req.period.end.FromDatetime(datetime.combine(end + timedelta(days=1), time(), UTC))
    return req


def _stat(value: float) -> float | None:
    return None if math.isnan(value) or math.isinf(value) else value


def _when(ts: object, present: bool) -> str | None:
    return iso(ts.ToDatetime(tzinfo=UTC)) if present else None  # type: ignore[attr-defined]


def _table(t: cpb.BiasAuditTable) -> schemas.TableOut:
    return schemas.TableOut(
        dimension=t.dimension,
        categories=[
            schemas.CategoryOut(
                category=c.category,
                total=c.total,
                selected=c.selected,
                rate=_stat(c.rate),
                share=_stat(c.share),
                impact_ratio=_stat(c.impact_ratio),
                reference=c.reference,
                below_four_fifths=c.below_four_fifths,
                excluded=c.excluded,
                fisher_p=_stat(c.fisher_p),
            )
            for c in t.categories
        ],
        known=t.known,
        unknown=t.unknown,
        reference=t.reference,
    )


def _rates(r: cpb.BiasAuditRates) -> schemas.RatesOut:
    return schemas.RatesOut(
        total=r.total,
        first_at=_when(r.first_at, r.HasField("first_at")),
        last_at=_when(r.last_at, r.HasField("last_at")),
        sex=_table(r.sex),
        race=_table(r.race),
        intersection=_table(r.intersection),
        median_score=_stat(r.median_score),
    )


def report_out(r: cpb.BiasAuditReport) -> schemas.BiasAuditOut:
    start = r.requested_period.start.ToDatetime(tzinfo=UTC).date()
    end = r.requested_period.end.ToDatetime(tzinfo=UTC).date() - timedelta(days=1)
    return schemas.BiasAuditOut(
        scope=SCOPE_NAMES[r.scope],  # type: ignore[arg-type]
        job_id=r.job_id,
        round=r.round,
        from_date=start.isoformat(),
        to_date=end.isoformat(),
        selection=SELECTION_NAMES[r.selection],  # type: ignore[arg-type]
        selection_rates=_rates(r.selection_rates),
        scoring_rates=_rates(r.scoring_rates),
        min_share=r.min_share,
        four_fifths=r.four_fifths,
        generated_at=iso(r.generated_at.ToDatetime(tzinfo=UTC)),
    )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _html_table(title: str, t: schemas.TableOut) -> str:
    rows = []
    for c in t.categories:
        flags = []
        if c.reference:
            flags.append("reference")
        if c.below_four_fifths:
            flags.append("<strong>below four-fifths</strong>")
        if c.excluded:
            flags.append("under 2%: excluded")
        rows.append(
            f"<tr><td>{escape(c.category)}</td><td>{c.total}</td><td>{c.selected}</td>"
            f"<td>{_pct(c.rate)}</td><td>{_pct(c.share)}</td><td>{_ratio(c.impact_ratio)}</td>"
            f"<td>{', '.join(flags)}</td></tr>"
        )
    return (
        f"<h3>{escape(title)} — by {escape(t.dimension)}</h3>"
        "<table><thead><tr><th>Category</th><th>Applicants</th><th>Selected / scored above median</th>"
        "<th>Rate</th><th>Share</th><th>Impact ratio</th><th>Notes</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        f"<p class=note>{t.unknown} individual(s) with an unknown category are not included above.</p>"
    )


def report_html(r: schemas.BiasAuditOut, tenant_id: str) -> str:
    """A printable page an auditor can read: every table, the rule's thresholds and the data's dates."""
    what = {"tenant": "all jobs", "job": f"job {r.job_id}", "round": f"job {r.job_id}, round {r.round}"}[
        r.scope
    ]
    sections = []
    for title, rates in (("Selection rates", r.selection_rates), ("Scoring rates", r.scoring_rates)):
        data = (
            f"{rates.first_at[:10]} to {rates.last_at[:10]}"
            if rates.first_at and rates.last_at
            else "no data"
        )
        median = f"; median score {rates.median_score:.2f}" if rates.median_score is not None else ""
        sections.append(
            f"<h2>{title}</h2><p>{rates.total} individual(s); data from {escape(data)}{median}.</p>"
            + "".join(_html_table(title, t) for t in (rates.sex, rates.race, rates.intersection))
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bias audit — {escape(what)}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #111; }}
table {{ border-collapse: collapse; margin: .5rem 0 1rem; }}
th, td {{ border: 1px solid #999; padding: .25rem .5rem; text-align: left; }}
th {{ background: #eee; }} .note {{ color: #555; }}
@media print {{ body {{ margin: 0; }} h2 {{ break-before: page; }} }}
</style></head><body>
<h1>Bias audit: {escape(what)}</h1>
<p>Tenant {escape(tenant_id)}. Requested period {r.from_date} to {r.to_date}. Selection counts
{"advanced or hired" if r.selection == "advanced_or_hired" else "hired"} decisions.
Generated {r.generated_at}.</p>
<p class=note>Impact ratio = a category's rate divided by the highest rate among included categories;
ratios under {r.four_fifths:.2f} (four-fifths) are marked; categories under {r.min_share:.0%} of the data are
shown but excluded from the impact-ratio calculation (NYC Rules, Title 6, §5-301).</p>
{"".join(sections)}
</body></html>"""
