"""Who is told when the ATS closes an application: the tenant's policy over the platform's defaults."""

from __future__ import annotations

from interloop_scheduler.settings import SchedulerSettings


def test_by_default_the_panel_only_for_a_rejection_and_the_candidate_too_for_a_withdrawal() -> None:
    s = SchedulerSettings()
    assert s.tells_candidate("t1", withdrawn=False) is False
    assert s.tells_candidate("t1", withdrawn=True) is True


def test_a_tenant_overrides_what_it_names_and_keeps_the_defaults_for_the_rest() -> None:
    s = SchedulerSettings(
        tell_candidate_on_withdrawal=False, tell_candidate_by_tenant={"acme": {"rejection": True}}
    )
    assert s.tells_candidate("acme", withdrawn=False) is True
    assert s.tells_candidate("acme", withdrawn=True) is False  # the platform's (changed) default
    assert s.tells_candidate("other", withdrawn=False) is False


def test_the_tenant_policy_reads_from_the_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("INTERLOOP_SCHEDULER_TELL_CANDIDATE_BY_TENANT", '{"acme": {"withdrawal": false}}')
    s = SchedulerSettings()
    assert s.tells_candidate("acme", withdrawn=True) is False
    assert s.tells_candidate("acme", withdrawn=False) is False
    assert s.tells_candidate("other", withdrawn=True) is True
