"""Tenant e-mail templates run in a bounded sandbox (they render on the worker every tenant shares): loops,
numbers, powers, repetition and output have limits, and a template past one is a clear EmailTemplateError
naming it; ordinary templates are untouched."""

from __future__ import annotations

import pytest
from interloop_sync.domain.automations import EmailTemplate, EmailTemplateError, EmailTemplates

CONTEXT = {"name": "Ada", "round": "Onsite", "items": ["a", "b", "c"]}


def _render(body: str, subject: str = "Hello {{ name }}") -> str:
    return EmailTemplates({"t": EmailTemplate(subject, body)}).render("t", CONTEXT).body


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{% for i in range(100000) %}x{% endfor %}", "argument 100000 is larger than 10000"),
        ("{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}", "loop iterations"),
        ('{{ "x" * 1000000 }}', "repetition"),
        ("{{ [1, 2] * 100000 }}", "repetition"),
        ("{{ 9 ** 999999 }}", "power"),
        ('{{ "x"|center(10000000) }}', "argument 10000000"),
        ('{{ "%s"|format("x")|indent(50000) }}', "argument 50000"),
        ('{% for i in range(5000) %}{{ "y" * 50 }}{% endfor %}', "output of more than 100000 characters"),
    ],
)
def test_a_template_bomb_is_refused_with_its_reason(body: str, reason: str) -> None:
    with pytest.raises(EmailTemplateError) as refused:
        _render(body)
    assert refused.value.template == "t" and reason in refused.value.reason, refused.value.reason


def test_a_subject_is_one_header_line_at_most() -> None:
    with pytest.raises(EmailTemplateError, match="output of more than 998"):
        _render("ok", subject='{{ "s" * 999 }}')


def test_ordinary_templates_render_as_before() -> None:
    body = (
        "Dear {{ name }},\n{% for i in range(3) %}{{ i }}{% endfor %} {{ items|join(', ') }} "
        "{{ round|upper }} {{ '-' * 10 }} {{ 2 ** 10 }} {{ 'x'|center(20) }}"
    )
    assert _render(body) == "Dear Ada,\n012 a, b, c ONSITE ---------- 1024 " + "x".center(20)
    # the budget is per render: many renders in a row each get a whole one
    many = EmailTemplates({"t": EmailTemplate("s", "{% for i in range(9000) %}{% endfor %}done")})
    assert [many.render("t", CONTEXT).body for _ in range(3)] == ["done"] * 3
