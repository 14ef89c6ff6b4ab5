"""What every vendor's webhook normaliser shares: the interview-stage policy, body decoding, typed readers
that name the path that was wrong, and content-derived event ids. Each vendor's JSON -> the common model
(``model.py``) lives with its adapter in ``vendors/``: unknown event types become ``Unrecognised``
(recorded, acknowledged); bodies missing what the vendor documents raise ``MalformedPayload`` (quarantined).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .dates import parse_date, parse_timestamp
from .model import MalformedPayload, NormalisedEvent, Stage


@dataclass(frozen=True, slots=True)
class InterviewStagePolicy:
    """Decides whether a stage is an interview stage (the scheduler opens a scheduling request on it).

    A stage matches if its id is listed, or its name contains one of ``keywords`` (case-insensitive), or
    (when enabled) Greenhouse says it holds an interview still ``to_be_scheduled``. Lever sends stage ids
    only; ``stage_names`` (id → name, from Lever's /stages) lets keywords work there too.
    """

    keywords: tuple[str, ...] = ("interview",)
    stage_ids: frozenset[str] = frozenset()
    stage_names: Mapping[str, str] = field(default_factory=dict)
    match_unscheduled_interviews: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> InterviewStagePolicy:
        return cls(
            keywords=tuple(str(k) for k in config.get("keywords", ("interview",))),
            stage_ids=frozenset(str(s) for s in config.get("stage_ids", ())),
            stage_names={str(k): str(v) for k, v in config.get("stage_names", {}).items()},
            match_unscheduled_interviews=bool(config.get("match_unscheduled_interviews", False)),
        )

    def name_of(self, stage_id: str) -> str | None:
        return self.stage_names.get(stage_id)

    def __call__(self, stage: Stage) -> bool:
        if stage.remote_id in self.stage_ids:
            return True
        name = (stage.name or self.stage_names.get(stage.remote_id) or "").casefold()
        if name and any(k.casefold() in name for k in self.keywords):
            return True
        return self.match_unscheduled_interviews and "to_be_scheduled" in stage.interview_statuses


DEFAULT_POLICY = InterviewStagePolicy()


def parse_body(provider: str, raw: bytes) -> dict[str, Any]:
    """Decode a raw webhook body into a JSON object, or raise ``MalformedPayload``."""
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload(provider, f"body is not valid JSON ({exc})") from None
    if not isinstance(parsed, dict):
        raise MalformedPayload(provider, "body is not a JSON object")
    return parsed


def body_object(provider: str, parsed: Any) -> Mapping[str, Any]:
    """``parsed`` as the JSON object a webhook body must be, or ``MalformedPayload``."""
    if not isinstance(parsed, Mapping):
        raise MalformedPayload(provider, "body is not a JSON object")
    return parsed


def content_event_id(provider: str, parsed: Mapping[str, Any]) -> str:
    """A stable id for an event that carries no vendor id: a hash of its canonical JSON."""
    canonical = json.dumps(parsed, sort_keys=True, separators=(",", ":"), default=str).encode()
    return f"{provider}:sha256:{hashlib.sha256(canonical).hexdigest()}"


# ---- typed readers that name the path that was wrong -------------------------------------------------


class Reader:
    """Typed reads of vendor JSON; every failure names the vendor and the path that was wrong."""

    provider: str

    def obj(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise MalformedPayload(self.provider, f"expected an object, got {type(value).__name__}", path)
        return value

    def opt_obj(self, value: Any, path: str) -> Mapping[str, Any] | None:
        return None if value is None else self.obj(value, path)

    def items(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise MalformedPayload(self.provider, f"expected a list, got {type(value).__name__}", path)
        return value

    def req_id(self, parent: Mapping[str, Any], key: str, path: str) -> str:
        value = parent.get(key)
        if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
            raise MalformedPayload(self.provider, f"required id {key!r} missing or not an id", path)
        return str(value)

    @staticmethod
    def opt_id(value: Any) -> str | None:
        if value is None or isinstance(value, bool) or value == "":
            return None
        return str(value) if isinstance(value, int | str) else None

    @staticmethod
    def opt_str(value: Any) -> str | None:
        return value if isinstance(value, str) and value != "" else None

    def timestamp(self, value: Any, path: str) -> datetime | None:
        try:
            return parse_timestamp(value)
        except ValueError as exc:
            raise MalformedPayload(self.provider, str(exc), path) from None

    def calendar_date(self, value: Any, path: str) -> date | None:
        try:
            return parse_date(value)
        except ValueError as exc:
            raise MalformedPayload(self.provider, str(exc), path) from None


def actions_of(events: Iterable[NormalisedEvent]) -> list[str]:
    """The vendor action names of ``events`` (metrics label helper)."""
    return [e.action for e in events]


# Words a rejection reason (or its type) uses when it was the candidate who left: "Withdrew", "Candidate
# withdrawn", a reason type "They rejected us".
_WITHDRAWAL_WORDS = ("withdr", "they rejected us", "not interested")


def is_withdrawal(*labels: str | None) -> bool:
    """Whether a rejection's reason or reason type says the candidate withdrew."""
    return any(w in label.casefold() for label in labels if label for w in _WITHDRAWAL_WORDS)
