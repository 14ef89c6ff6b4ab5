"""Candidate dedupe by id, email and phone; merges; erasure."""

from datetime import UTC, datetime

import pytest
from interloop_sync.domain.identity import apply_merge, dedupe, erase, normalise_email, normalise_phone
from interloop_sync.domain.model import Candidate, Merge


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Ada.Lovelace+jobs@Example.COM ", "ada.lovelace@example.com"),
        ("a@b.co", "a@b.co"),
        ("not-an-email", None),
        ("+tag@x.com", None),
        ("", None),
    ],
)
def test_normalise_email(raw: str, expected: str | None) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("330-281-8004", "+13302818004"),
        ("+44 20 7946 0958", "+442079460958"),
        ("0044 20 7946 0958", "+442079460958"),
        ("(518) 555-1212 x12", "+15185551212"),
        ("123456", None),
    ],
)
def test_normalise_phone(raw: str, expected: str | None) -> None:
    assert normalise_phone(raw) == expected


def cand(pid: str, provider: str = "greenhouse", created: int = 1, **kw) -> Candidate:
    return Candidate(
        provider=provider, remote_id=pid, created_at=datetime(2020, 1, created, tzinfo=UTC), **kw
    )


def test_dedupe_transitively_by_email_and_phone() -> None:
    a = cand("1", created=3, first_name="Ada", emails=("Ada+x@Example.com",))
    b = cand("o-9", provider="lever", created=1, emails=("ada@example.com",), phones=("518-555-1212",))
    c = cand("2", created=2, last_name="Lovelace", phones=("+1 518 555 1212",))
    d = cand("3", emails=("other@example.com",))
    groups = dedupe([a, b, c, d, a])
    assert len(groups) == 2
    person = next(g for g in groups if len(g.merged) == 2)
    assert person.canonical.remote_id == "o-9"  # oldest wins
    assert person.canonical.first_name == "Ada" and person.canonical.last_name == "Lovelace"
    assert set(person.merged_ids) == {("greenhouse", "1"), ("greenhouse", "2")}
    assert "email:ada@example.com" in person.matched_on and "phone:+15185551212" in person.matched_on


def test_apply_merge_remaps_instead_of_deleting() -> None:
    old = cand("37031511", emails=("jack@example.com",))
    new = cand("457456", first_name="Jack")
    event = Merge(
        provider="greenhouse",
        event_id="e",
        action="merge_candidate",
        surviving_id="457456",
        merged_id="37031511",
    )
    outcome = apply_merge({"37031511": old, "457456": new}, event)
    assert outcome.canonical.remote_id == "457456" and outcome.canonical.emails == ("jack@example.com",)
    assert outcome.remap == {"37031511": "457456"}


def test_erase_returns_anonymised_copy() -> None:
    c = cand(
        "42",
        first_name="Ada",
        last_name="L",
        emails=("a@x.com",),
        phones=("1",),
        title="CTO",
        custom_fields={"k": "v"},
    )
    full = erase(c)
    assert (full.first_name, full.last_name, full.emails, full.phones, full.title, full.custom_fields) == (
        "Anonymized",
        "42",
        (),
        (),
        None,
        {},
    )
    assert full.is_anonymised and full.remote_id == "42" and c.first_name == "Ada"
    partial = erase(c, ["full_name", "current_title", "scorecards_and_interviews"])
    assert partial.emails == ("a@x.com",) and partial.title is None and partial.first_name == "Anonymized"
