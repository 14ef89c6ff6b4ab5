"""Request and response bodies of connections, dead letters, automations and the funnel."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec


class ConnectionIn(msgspec.Struct):
    provider: Literal["greenhouse", "lever", "workday", "bamboohr"]
    owner: str
    credentials: dict[str, str]
    mode: Literal["active", "shadow"] = "active"
    name: str = ""
    base_url: str = ""
    field_mapping: dict[str, Any] = {}
    stage_policy: dict[str, Any] = {}
    hris_connection_id: str = ""
    settings: dict[str, str] = {}


class EmailTemplateIn(msgspec.Struct):
    name: str
    subject: str
    body: str
    html: bool = False


class AutomationRuleIn(msgspec.Struct):
    id: str = ""
    dsl: str = ""
    rule: dict[str, Any] = {}
    enabled: bool = True
    templates: list[EmailTemplateIn] = []


class ReplayIn(msgspec.Struct):
    ids: list[str] = []


class OutcomeIn(msgspec.Struct):
    """A post-hire outcome from an HRIS or a person: `retained_90d` and/or `first_performance_rating`
    (or the generic `outcome` + `value` pair)."""

    candidate_id: str
    job_id: str = ""
    application_id: str = ""
    retained_90d: bool | None = None
    first_performance_rating: float | None = None
    outcome: str = ""
    value: float | None = None
    recorded_at: datetime | None = None
