"""Automation rules: DSL and JSON parsing, safe conditions, reject delay floor, idempotent planning."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from interloop_fakes.examples import EXAMPLES
from interloop_sync.domain.automations import (
    EmailTemplate,
    EmailTemplateError,
    EmailTemplates,
    RuleError,
    parse_rule,
    parse_rules,
    plan,
    rules_from_json,
)
from interloop_sync.vendors import registry

FIX = EXAMPLES / "greenhouse"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def event(name: str, **edits):
    body = json.loads((FIX / name).read_text())
    if "stage" in edits:
        body["payload"]["application"]["current_stage"]["name"] = edits["stage"]
    return registry.ats("greenhouse").normalise(body, event_id="greenhouse:event:abc")[0]


RULES = """
# scheduling
rule schedule: on stage_change if is_interview_stage == true do open_scheduling_request
rule take-home: on stage_change if to_stage.name in ["Assessment", "Take-home"] and candidate.can_email != false do dispatch_assessment("https://assess.example.com/t/1")
rule notify: on candidate_stage_change if to_stage.remote_id == 71416 or jobs.x == "y" do call_webhook(url="https://hooks.example.com/a") after 30m
rule decline: on rejection if not (reason in ["Withdrew", "Hired elsewhere"]) do send_email("rejection_default") after 2d
rule auto-reject: on rejection if reason == "Too Junior" do reject after 1d
rule bg: on hire do start_background_check("standard")
"""  # noqa: E501


def test_dsl_plans_one_outcome_per_matching_rule() -> None:
    rules = parse_rules(RULES, templates={"rejection_default"})
    assessment = plan(rules, event("f-gh-01-candidate_stage_change.json"), NOW)
    assert [p.rule_id for p in assessment] == ["take-home", "notify"]
    take_home = assessment[0]
    assert take_home.idempotency_key == "take-home:greenhouse:event:abc"
    assert take_home.due_at == NOW and take_home.follow_up_at == NOW + timedelta(hours=48)
    interview = plan(rules, event("f-gh-01-candidate_stage_change.json", stage="Onsite Interview"), NOW)
    assert [p.rule_id for p in interview] == ["schedule", "notify"]
    rejected = plan(rules, event("f-gh-08-reject_candidate.json"), NOW)
    assert {p.rule_id: p.due_at - NOW for p in rejected} == {
        "decline": timedelta(days=2),
        "auto-reject": timedelta(days=1),
    }
    assert plan(rules, event("f-gh-01-candidate_stage_change.json"), NOW) == assessment  # deterministic


def test_vendor_action_names_and_id_literals_match() -> None:
    (notify,) = parse_rules(RULES.split("\n")[4])
    planned = plan([notify], event("f-gh-01-candidate_stage_change.json", stage="Other"), NOW)
    assert planned[0].action.args == {"url": "https://hooks.example.com/a"}
    assert planned[0].due_at == NOW + timedelta(minutes=30)


@pytest.mark.parametrize("delay", ["", "after 23h", "after 1h", "after 23h59m"])
def test_reject_shorter_than_24h_is_refused(delay: str) -> None:
    with pytest.raises(RuleError) as err:
        parse_rule(f"rule r1: on rejection do reject {delay}")
    assert "24h" in str(err.value) and err.value.rule == "r1"


@pytest.mark.parametrize(
    "text",
    [
        "on stage_change do explode",
        "on stage_change if __import__('os') do reject after 2d",
        "on stage_change if a == do open_scheduling_request",
        'on stage_change do call_webhook("ftp://x")',
        "on stage_change do send_email",
        'on stage_change do send_email("missing")',
        "on stage_change do open_scheduling_request after soon",
        "on stage_change do open_scheduling_request trailing",
    ],
)
def test_invalid_rules_are_rejected(text: str) -> None:
    with pytest.raises(RuleError):
        parse_rule(text, templates={"known"})


def test_conditions_cannot_reach_private_attributes() -> None:
    (r,) = parse_rules('on stage_change if __class__ == "StageChange" do open_scheduling_request')
    assert plan([r], event("f-gh-01-candidate_stage_change.json"), NOW) == []


def test_json_form_matches_dsl() -> None:
    rules = rules_from_json(
        [
            {
                "id": "j1",
                "on": "stage_change",
                "if": {
                    "all": [
                        {"field": "to_stage.name", "op": "in", "value": ["Assessment"]},
                        {"not": {"field": "is_interview_stage"}},
                    ]
                },
                "do": {"action": "dispatch_assessment", "link": "https://a.example.com/x", "reminder": "24h"},
                "after": "1h",
            },
            {"id": "j2", "on": "rejection", "do": "reject", "after": 86400},
        ]
    )
    (p,) = plan(rules, event("f-gh-01-candidate_stage_change.json"), NOW)
    assert p.due_at == NOW + timedelta(hours=1) and p.follow_up_at == p.due_at + timedelta(hours=24)
    with pytest.raises(RuleError):
        rules_from_json([{"id": "j3", "on": "rejection", "do": "reject", "after": "12h"}])
    with pytest.raises(RuleError, match="duplicate"):
        rules_from_json([{"id": "x", "on": "hire", "do": "start_background_check"}] * 2)


def test_email_rendering_is_sandboxed_and_strict() -> None:
    templates = EmailTemplates(
        {
            "invite": EmailTemplate("Hi {{ candidate.first_name }}\nBcc: x", "<p>{{ note }}</p>", html=True),
            "plain": EmailTemplate("S", "{{ missing_var }}"),
            "evil": EmailTemplate("S", "{{ ''.__class__.__mro__ }}"),
        }
    )
    out = templates.render("invite", {"candidate": {"first_name": "Ada"}, "note": "<script>x</script>"})
    assert out.subject == "Hi Ada Bcc: x" and "&lt;script&gt;" in out.body
    with pytest.raises(EmailTemplateError, match="missing_var"):
        templates.render("plain", {})
    with pytest.raises(EmailTemplateError):
        templates.render("evil", {})
    with pytest.raises(EmailTemplateError):
        templates.render("nope", {})
    with pytest.raises(EmailTemplateError):
        EmailTemplates({"bad": EmailTemplate("{% if %}", "")})
