"""Templates, scorecards, amendments and the blind rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from interloop_scorecard.domain.errors import ValidationError
from interloop_scorecard.domain.scorecards import (
    Rating,
    Recommendation,
    Role,
    ScorecardState,
    Viewer,
    latest_versions,
    may_view,
    new_scorecard,
)
from interloop_scorecard.domain.templates import Anchor, Dimension, RatingScale, ScorecardTemplate

T0 = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)


def _template() -> ScorecardTemplate:
    return ScorecardTemplate(
        template_id="tpl-1",
        job_id="job-9",
        round_id="onsite",
        version=1,
        created_at=T0,
        dimensions=(
            Dimension(
                "coding",
                "Coding",
                RatingScale.numeric(1, 4),
                anchors=(Anchor(1, "Could not produce working code"), Anchor(4, "Clean, tested code")),
            ),
            Dimension("communication", "Communication", RatingScale.greenhouse(), evidence_required=True),
        ),
    )


def _card(interviewer: str = "ann", candidate: str = "cand-1"):
    return new_scorecard(
        scorecard_id=f"sc-{interviewer}",
        interview_id="int-1",
        candidate_id=candidate,
        interviewer_id=interviewer,
        template=_template(),
        interview_ended_at=T0,
    )


def _filled(interviewer: str = "ann"):
    return _card(interviewer).edit(
        ratings=[Rating("coding", 3), Rating("communication", "strong_yes", "explained trade-offs clearly")],
        overall=Recommendation.YES,
        confidence=4,
    )


def test_greenhouse_labels_map_to_ordinals():
    scale = RatingScale.greenhouse()
    assert [scale.ordinal(v) for v in ("definitely_not", "no", "mixed", "yes", "strong_yes")] == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert scale.points == (1, 2, 3, 4, 5)
    with pytest.raises(ValidationError) as err:
        scale.ordinal("maybe", "ratings[1].value")
    assert err.value.field == "ratings[1].value" and "strong_yes" in err.value.message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"version": 0}, "version"),
        ({"dimensions": ()}, "dimensions"),
        ({"created_at": datetime(2025, 1, 1)}, "created_at"),  # noqa: DTZ001 - naive on purpose
        ({"dimensions": (Dimension("a", "A", RatingScale.numeric(1, 5)),) * 2}, "dimensions[1].key"),
        (
            {"dimensions": (Dimension("a", "A", RatingScale.numeric(1, 5), anchors=(Anchor(7, "x"),)),)},
            "dimensions[0].anchors[0].point",
        ),
    ],
)
def test_template_validation_names_the_field(change, field):
    base = dict(
        template_id="t",
        job_id="j",
        round_id="r",
        version=1,
        created_at=T0,
        dimensions=(Dimension("a", "A", RatingScale.numeric(1, 5)),),
    )
    with pytest.raises(ValidationError) as err:
        ScorecardTemplate(**{**base, **change})
    assert err.value.field == field


def test_numeric_scale_rejects_inverted_bounds():
    with pytest.raises(ValidationError) as err:
        RatingScale.numeric(5, 1)
    assert err.value.field == "scale.maximum"


def test_template_revision_is_a_new_version():
    t1 = _template()
    t2 = t1.revise(at=T0 + timedelta(days=1), by="admin", dimensions=t1.dimensions[:1])
    assert (t1.version, t2.version) == (1, 2)
    assert len(t1.dimensions) == 2 and len(t2.dimensions) == 1
    card = _card()
    assert card.template == t1.ref
    with pytest.raises(ValidationError) as err:
        card.ordinals(t2)
    assert err.value.field == "template"


def test_submit_validates_and_records_time_to_feedback():
    tpl = _template()
    submitted = _filled().submit(tpl, T0 + timedelta(hours=5))
    assert submitted.state is ScorecardState.SUBMITTED
    assert submitted.time_to_feedback == timedelta(hours=5)
    assert submitted.ordinals(tpl) == {"coding": 3, "communication": 5}


@pytest.mark.parametrize(
    ("ratings", "field"),
    [
        ([Rating("coding", 3)], "ratings"),
        ([Rating("coding", 9), Rating("communication", "yes", "ok")], "ratings[0].value"),
        ([Rating("coding", 3), Rating("communication", "yes")], "ratings[1].evidence"),
        ([Rating("coding", 3), Rating("coding", 2)], "ratings[1].dimension"),
        ([Rating("typing", 3)], "ratings[0].dimension"),
    ],
)
def test_submit_errors_name_the_field(ratings, field):
    card = _card().edit(ratings=ratings, overall=Recommendation.NO)
    with pytest.raises(ValidationError) as err:
        card.submit(_template(), T0 + timedelta(hours=1))
    assert err.value.field == field


def test_amendments_are_new_versions_nothing_overwritten():
    tpl = _template()
    v1 = _filled().submit(tpl, T0 + timedelta(hours=2))
    with pytest.raises(ValidationError):
        v1.edit(confidence=2)
    with pytest.raises(ValidationError) as err:
        v1.amend(tpl, by="ann", at=T0 + timedelta(days=1), reason=" ")
    assert err.value.field == "reason"
    v2 = v1.amend(
        tpl,
        by="ann",
        at=T0 + timedelta(days=1),
        reason="typo in coding score",
        ratings=[Rating("coding", 2), Rating("communication", "strong_yes", "clear")],
    )
    assert v1.rating("coding").value == 3 and v2.rating("coding").value == 2
    assert v2.version == 2 and v2.amendment is not None
    assert (v2.amendment.by, v2.amendment.reason, v2.amendment.previous_version) == (
        "ann",
        "typo in coding score",
        1,
    )
    assert v2.submitted_at == v1.submitted_at  # time-to-feedback is about the first submission
    assert latest_versions([v1, v2])["sc-ann"] is v2


def test_blind_rule():
    tpl = _template()
    ann_draft = _filled("ann")
    bob = _filled("bob").submit(tpl, T0 + timedelta(hours=1))
    ann = Viewer("ann", frozenset({Role.INTERVIEWER}))
    assert not may_view(ann, bob, [ann_draft, bob]).allowed
    ann_done = ann_draft.submit(tpl, T0 + timedelta(hours=3))
    assert may_view(ann, bob, [ann_done, bob]).allowed
    assert may_view(ann, ann_draft, [ann_draft]).allowed  # own draft
    bob_viewer = Viewer("bob", frozenset({Role.INTERVIEWER}))
    assert not may_view(bob_viewer, ann_draft, [ann_draft, bob]).allowed  # drafts stay private
    outsider = Viewer("eve", frozenset({Role.INTERVIEWER}))
    assert not may_view(outsider, bob, [bob]).allowed
    auditor = Viewer("cal", frozenset({Role.COMPLIANCE}))
    assert may_view(auditor, bob, [bob]).allowed
    # a submitted scorecard for ANOTHER candidate does not unlock this one
    other = (
        _card("ann", candidate="cand-2")
        .edit(
            ratings=[Rating("coding", 1), Rating("communication", "no", "vague")], overall=Recommendation.NO
        )
        .submit(tpl, T0 + timedelta(hours=4))
    )
    assert not may_view(ann, bob, [ann_draft, other, bob]).allowed
