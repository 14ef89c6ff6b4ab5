"""The default scheduling-link email renders with and without the optional variables."""

from __future__ import annotations

from interloop_sync.domain.automations import EmailTemplates
from interloop_sync.usecases.automations import DEFAULT_SCHEDULING_LINK


def test_default_scheduling_link_email_names_round_link_and_expiry() -> None:
    ctx = {
        "candidate_name": "Pat Lee",
        "round": "Onsite",
        "link": "https://x.test/schedule/tok",
        "expires_at": "2026-03-02T10:00:00+00:00",
    }
    r = EmailTemplates({"scheduling_link": DEFAULT_SCHEDULING_LINK}).render("scheduling_link", ctx)
    assert r.subject == "Choose a time for your interview"
    assert "Hello Pat Lee," in r.body and "your Onsite interview: https://x.test/schedule/tok" in r.body
    assert "valid until 2026-03-02T10:00:00+00:00" in r.body


def test_default_scheduling_link_email_without_name_round_or_expiry() -> None:
    ctx = {"candidate_name": "", "round": "", "link": "https://x.test/s/t", "expires_at": ""}
    r = EmailTemplates({"scheduling_link": DEFAULT_SCHEDULING_LINK}).render("scheduling_link", ctx)
    assert "Hello there," in r.body and "your interview: https://x.test/s/t" in r.body
    assert "valid until" not in r.body
