"""NYC Local Law 144 bias audit (6 RCNY §5-301): the tables, the <2% exclusion, unknowns, intersections,
scoring rates on the full-sample median, the request rules, and the protobuf the report leaves as.

The rule text followed (https://codelibrary.amlegal.com/codes/newyorkcity/latest/NYCrules/0-0-0-138530):
§5-301(b) selection rate and impact ratio per category, separately for sex, race/ethnicity and their
intersection, and "the number of individuals ... not included in the calculations because they fall within an
unknown category"; §5-301(c) "the median score for the full sample" and the scoring rate per category;
§5-301(d) a category under 2% of the data may be excluded from the impact ratios, its counts still reported.
The numbers below are small enough to check by hand; each expected value is worked out in a comment.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from interloop.scorecard.v1 import scorecard_pb2 as pb
from interloop_common.errors import FieldViolations
from interloop_scorecard.domain.stats.bias_audit import (
    Assessed,
    Scope,
    Selection,
    audit_request,
    category,
    scoring_rates,
    selection_rates,
)
from interloop_scorecard.rpc.convert import bias_audit_out
from interloop_scorecard.usecases.statistics import _bias_audit

# (sex, race, individuals, selected); None = unknown. 100 individuals in all.
TABLE = [
    ("female", "asian", 10, 2),
    ("female", "white", 30, 10),
    ("male", "asian", 20, 10),
    ("male", "white", 30, 15),
    ("nonbinary", "white", 1, 1),
    (None, "white", 5, 3),
    ("female", None, 4, 0),
]


def _people(table=TABLE):  # type: ignore[no-untyped-def]
    people, selected = [], []
    for sex, race, n, k in table:
        people += [Assessed(sex, race)] * n
        selected += [True] * k + [False] * (n - k)
    return people, selected


def _groups(t):  # type: ignore[no-untyped-def]
    return {g.category: g for g in t.impact.groups}


def test_sex_table_excludes_the_small_category_and_counts_unknowns() -> None:
    r = selection_rates(*_people())
    assert r.total == 100
    sex = r.sex
    # sex unknown: the 5 (None, white); known 95
    assert (sex.unknown, sex.known) == (5, 95)
    g = _groups(sex)
    # female 10 + 30 + 4 = 44 of whom 2 + 10 + 0 = 12 selected; male 50, 25 selected
    assert (g["female"].total, g["female"].selected) == (44, 12)
    assert (g["male"].total, g["male"].selected) == (50, 25)
    assert g["female"].rate == Fraction(3, 11) and g["male"].rate == Fraction(1, 2)
    # nonbinary: 1 of 95 known = 1.05% < 2%: shown with its counts and rate, no impact ratio, and its 100%
    # rate does not make it the reference
    nb = g["nonbinary"]
    assert (nb.total, nb.selected, nb.rate) == (1, 1, 1)
    assert nb.excluded == "below_min_share" and nb.impact_ratio is None and not sex.below_four_fifths(nb)
    assert sex.share(nb) == Fraction(1, 95)
    assert sex.impact.reference == "male" and g["male"].impact_ratio == 1
    # female: (3/11) / (1/2) = 6/11 = 0.545 < 0.8
    assert g["female"].impact_ratio == Fraction(6, 11) and sex.below_four_fifths(g["female"])
    assert not sex.below_four_fifths(g["male"])


def test_race_table() -> None:
    race = selection_rates(*_people()).race
    # race unknown: the 4 (female, None); known 96
    assert (race.unknown, race.known) == (4, 96)
    g = _groups(race)
    # asian 10 + 20 = 30, 2 + 10 = 12 selected: 2/5; white 30 + 30 + 1 + 5 = 66, 10 + 15 + 1 + 3 = 29
    assert (g["asian"].total, g["asian"].selected) == (30, 12)
    assert (g["white"].total, g["white"].selected) == (66, 29)
    assert race.impact.reference == "white"
    # (2/5) / (29/66) = 132/145 = 0.910: not flagged
    assert g["asian"].impact_ratio == Fraction(132, 145) and not race.below_four_fifths(g["asian"])
    assert all(gr.excluded is None for gr in g.values())


def test_intersections_are_unknown_when_either_attribute_is() -> None:
    inter = selection_rates(*_people()).intersection
    assert inter.dimension == "sex x race"
    # unknown: 5 without sex + 4 without race; known 91
    assert (inter.unknown, inter.known) == (9, 91)
    g = _groups(inter)
    assert set(g) == {"female / asian", "female / white", "male / asian", "male / white", "nonbinary / white"}
    # male / asian 10/20 and male / white 15/30 tie at 1/2; the first in order is the reference
    assert inter.impact.reference == "male / asian"
    assert g["male / white"].impact_ratio == 1 and not inter.below_four_fifths(g["male / white"])
    # female / asian 2/10 = 1/5 -> (1/5)/(1/2) = 2/5; female / white 10/30 = 1/3 -> 2/3: both under 4/5
    assert g["female / asian"].impact_ratio == Fraction(2, 5)
    assert g["female / white"].impact_ratio == Fraction(2, 3)
    assert inter.below_four_fifths(g["female / asian"]) and inter.below_four_fifths(g["female / white"])
    # nonbinary / white: 1 of 91 < 2%
    assert g["nonbinary / white"].excluded == "below_min_share"


def test_exactly_two_percent_stays_in_the_impact_ratios() -> None:
    # 1 of 50 known is 2% exactly: kept; 1 of 51 is under 2%: excluded
    for others, excluded in ((49, None), (50, "below_min_share")):
        people, selected = _people([("x", "r", 1, 0), ("y", "r", others, others)])
        g = _groups(selection_rates(people, selected).sex)
        assert g["x"].excluded == excluded
        assert (g["x"].impact_ratio == 0) is (excluded is None)


def test_scoring_rate_uses_the_median_of_the_full_sample_unknowns_included() -> None:
    people = [Assessed("f", "a"), Assessed("f", "a"), Assessed("m", "a"), Assessed("m", "a")]
    people += [Assessed(None, "a"), Assessed(None, "a")]
    r = scoring_rates(people, [1, 2, 3.5, 4, 5, 6])
    # the median of all six is (3.5 + 4) / 2 = 3.75 (without the unknowns it would be 2.75)
    assert r.median_score == Fraction(15, 4)
    g = _groups(r.sex)
    # f: 1 and 2 are not above it (0/2); m: 4 is, 3.5 is not (1/2)
    assert (g["f"].selected, g["m"].selected) == (0, 1)
    assert r.sex.impact.reference == "m" and g["f"].impact_ratio == 0 and r.sex.below_four_fifths(g["f"])
    assert r.sex.unknown == 2 and r.race.unknown == 0
    # a score equal to the median is not above it: 1, 2, 2, 3 -> median 2
    tie = scoring_rates([Assessed("f", "a")] * 4, [1, 2, 2, 3])
    assert tie.median_score == 2 and _groups(tie.sex)["f"].selected == 1


def test_no_data_is_an_empty_report_not_an_error() -> None:
    for r in (selection_rates([], []), scoring_rates([], [])):
        assert r.total == 0 and r.first_at is None and r.median_score is None
        assert all(t.known == 0 and t.unknown == 0 and not t.impact.groups for t in r.tables)
    # everyone unknown: counted, nothing rated
    r = selection_rates([Assessed(None, None)] * 3, [True, False, True])
    assert (r.sex.unknown, r.race.unknown, r.intersection.unknown) == (3, 3, 3)
    assert r.sex.impact.reference is None


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        (None, None),
        ({}, None),
        ({"sex": ""}, None),
        ({"sex": "  "}, None),
        ({"sex": "unknown"}, None),
        ({"sex": "Unknown"}, None),
        ({"sex": "female"}, "female"),
        ({"gender": "female"}, None),  # the audit reads "sex" only
    ],
)
def test_unknown_category(attributes: dict[str, str] | None, expected: str | None) -> None:
    assert category(attributes, "sex") == expected


T0 = datetime(2024, 2, 29, tzinfo=UTC)


def _request(**kw):  # type: ignore[no-untyped-def]
    args = {
        "scope": Scope.JOB,
        "job_id": "job-1",
        "round": "",
        "start": T0,
        "end": T0 + timedelta(days=365),
        "selection": Selection.ADVANCED_OR_HIRED,
    }
    return audit_request(**{**args, **kw})


def _violations(**kw) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(FieldViolations) as caught:
        _request(**kw)
    assert caught.value.status == "INVALID_ARGUMENT"
    return dict(caught.value.violations)


def test_request_scopes() -> None:
    assert _request().scope is Scope.JOB
    assert _request(scope=Scope.ROUND, round="onsite").round == "onsite"
    assert _request(scope=Scope.TENANT, job_id="").job_id == ""
    assert set(_violations(scope=None)) == {"scope"}
    assert set(_violations(job_id="")) == {"job_id"}
    assert set(_violations(round="onsite")) == {"round"}
    assert set(_violations(scope=Scope.ROUND, job_id="")) == {"job_id", "round"}
    assert set(_violations(scope=Scope.TENANT, round="onsite")) == {"job_id", "round"}
    assert set(_violations(selection=None)) == {"selection"}


def test_request_periods() -> None:
    # 29 Feb 2024 + 3 years = 28 Feb 2027: the longest period accepted
    longest = datetime(2027, 2, 28, tzinfo=UTC)
    assert _request(end=longest).end == longest
    too_long = _violations(end=longest + timedelta(seconds=1))
    assert set(too_long) == {"period"} and "2027-02-28" in too_long["period"]
    assert set(_violations(end=T0)) == {"period.end"}  # [start, end) must not be empty
    assert set(_violations(end=T0 - timedelta(days=1))) == {"period.end"}
    assert set(_violations(start=None, end=None)) == {"period.start", "period.end"}
    assert set(_violations(start=datetime(2024, 1, 1))) == {"period.start"}
    # every wrong field at once
    assert set(_violations(scope=None, end=None)) == {"scope", "period.end"}


def _row(attrs: dict[str, str] | None, **values):  # type: ignore[no-untyped-def]
    return {"attributes": json.dumps(attrs) if attrs is not None else None, **values}


def test_selection_definition_and_the_data_dates() -> None:
    d1, d2, d3 = (datetime(2024, m, 1, tzinfo=UTC) for m in (3, 1, 2))
    decided = [
        _row({"sex": "f", "race": "a"}, decision="advance", decided_at=d1),
        _row({"sex": "f", "race": "a"}, decision="hire", decided_at=d2),
        _row(None, decision="reject", decided_at=d3),
    ]
    scored = [_row({"sex": "m"}, score=3.0, first_at=d2, last_at=d3)]
    now = datetime(2024, 6, 1, tzinfo=UTC)
    for selection, selected in ((Selection.ADVANCED_OR_HIRED, 2), (Selection.HIRED, 1)):
        audit = _bias_audit(_request(selection=selection), decided, scored, now)
        assert _groups(audit.selection.sex)["f"].selected == selected
        assert audit.selection.total == 3 and audit.selection.sex.unknown == 1
        # the first and last decision in the data, whatever their order
        assert (audit.selection.first_at, audit.selection.last_at) == (d2, d1)
        assert (audit.scoring.first_at, audit.scoring.last_at) == (d2, d3)
        assert audit.scoring.race.unknown == 1 and audit.generated_at == now


def test_the_report_as_protobuf() -> None:
    people, selected = _people()
    audit = _bias_audit(
        _request(selection=Selection.HIRED),
        [
            _row(
                {k: v for k, v in (("sex", p.sex), ("race", p.race)) if v},
                decision="hire" if s else "reject",
                decided_at=T0 + timedelta(days=i),
            )
            for i, (p, s) in enumerate(zip(people, selected, strict=True))
        ],
        [],
        T0,
    )
    out = bias_audit_out(audit)
    assert out.scope == pb.BIAS_AUDIT_SCOPE_JOB and out.job_id == "job-1"
    assert out.selection == pb.BIAS_AUDIT_SELECTION_HIRED
    assert out.requested_period.start.ToDatetime(tzinfo=UTC) == T0
    assert out.min_share == 0.02 and out.four_fifths == 0.8
    sel = out.selection_rates
    assert sel.total == 100 and sel.first_at.ToDatetime(tzinfo=UTC) == T0
    assert sel.last_at.ToDatetime(tzinfo=UTC) == T0 + timedelta(days=99)
    assert math.isnan(sel.median_score)
    sex = {c.category: c for c in sel.sex.categories}
    assert (sel.sex.known, sel.sex.unknown, sel.sex.reference) == (95, 5, "male")
    assert sex["male"].reference and not sex["male"].below_four_fifths and math.isnan(sex["male"].fisher_p)
    assert sex["female"].below_four_fifths and sex["female"].impact_ratio == pytest.approx(6 / 11)
    assert sex["female"].share == pytest.approx(44 / 95) and sex["female"].rate == pytest.approx(3 / 11)
    nb = sex["nonbinary"]
    assert nb.excluded and not nb.below_four_fifths and math.isnan(nb.impact_ratio) and nb.total == 1
    assert [t.dimension for t in (sel.sex, sel.race, sel.intersection)] == ["sex", "race", "sex x race"]
    assert out.scoring_rates.total == 0 and not out.scoring_rates.HasField("first_at")
