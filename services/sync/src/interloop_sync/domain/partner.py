"""Changes an ATS vendor pushes over the partner API (``PushPartnerChanges``), in the common model.

Each change becomes the normalised events a vendor webhook becomes (``model.py``), so the mirror, automations,
scheduling requests, the HRIS hand-off and erasure treat a pushed change and a webhook delivery alike. A
partner acts through a connection of provider ``PROVIDER``: one per tenant and partner, with no credentials
and no vendor API behind it. Pure: the caller reads what the mirror holds (the application a change names,
a deleted candidate's applications) and passes it in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from .model import (
    Application,
    ApplicationChanged,
    Candidate,
    CandidateChanged,
    Deletion,
    Hire,
    Job,
    NormalisedEvent,
    Rejection,
    Stage,
    StageChange,
)
from .normalise import DEFAULT_POLICY, InterviewStagePolicy

PROVIDER = "partner"
MAX_CHANGES = 500
MAX_REQUEST_ID = 200

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class UpsertCandidate:
    candidate: Candidate


@dataclass(frozen=True, slots=True)
class UpsertApplication:
    application: Application
    job: Job


@dataclass(frozen=True, slots=True)
class MoveStage:
    application_id: str
    stage: Stage
    # None: the connection's InterviewStagePolicy decides from the stage.
    interview_stage: bool | None = None


@dataclass(frozen=True, slots=True)
class RejectApplication:
    application_id: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class HireApplication:
    application_id: str
    start_date: date


@dataclass(frozen=True, slots=True)
class DeleteCandidate:
    candidate_id: str


Change = (
    UpsertCandidate | UpsertApplication | MoveStage | RejectApplication | HireApplication | DeleteCandidate
)

# The names of the contract's oneof (``PartnerChange.change``): the events' ``action``.
KINDS: Mapping[type, str] = {
    UpsertCandidate: "upsert_candidate",
    UpsertApplication: "upsert_application",
    MoveStage: "move_stage",
    RejectApplication: "reject_application",
    HireApplication: "hire_application",
    DeleteCandidate: "delete_candidate",
}
# Changes that act on an application Interloop must already hold (pushed before, or earlier in the batch).
_ON_KNOWN_APPLICATION = (MoveStage, RejectApplication, HireApplication)


@dataclass(frozen=True, slots=True)
class PartnerChange:
    request_id: str  # the partner's own id: the same id again is a duplicate
    change: Change

    @property
    def kind(self) -> str:
        return KINDS[type(self.change)]

    @property
    def application_id(self) -> str | None:
        """The application the change names (None for candidate changes)."""
        if isinstance(self.change, UpsertApplication):
            return self.change.application.remote_id
        return self.change.application_id if isinstance(self.change, _ON_KNOWN_APPLICATION) else None

    @property
    def needs_known_application(self) -> bool:
        return isinstance(self.change, _ON_KNOWN_APPLICATION)


def looks_like_email(value: str) -> bool:
    return _EMAIL.fullmatch(value) is not None


def calendar_date(value: str) -> date | None:
    """``value`` as a YYYY-MM-DD date; None when it is not one."""
    if _DATE.fullmatch(value) is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def event_id(partner_id: str, request_id: str) -> str:
    """Stable per change: with a rule id it is the automation's idempotency key."""
    return f"{PROVIDER}:{partner_id}:{request_id}"


def events(
    partner_id: str,
    pc: PartnerChange,
    *,
    known: Application | None = None,
    candidate_applications: Sequence[str] = (),
    policy: InterviewStagePolicy = DEFAULT_POLICY,
) -> list[NormalisedEvent]:
    """The normalised events of one change. ``known`` is the mirror's application the change names (required
    for moves, rejections and hires); ``candidate_applications`` the applications a deleted candidate had."""
    base: dict[str, Any] = {
        "provider": PROVIDER,
        "event_id": event_id(partner_id, pc.request_id),
        "action": pc.kind,
    }
    ch = pc.change
    if isinstance(ch, UpsertCandidate):
        return [CandidateChanged(**base, candidate=ch.candidate)]
    if isinstance(ch, UpsertApplication):
        return [ApplicationChanged(**base, application=ch.application, jobs=(ch.job,), created=known is None)]
    if isinstance(ch, DeleteCandidate):
        related = tuple(candidate_applications)
        return [Deletion(**base, entity="candidate", remote_id=ch.candidate_id, related_ids=related)]
    if known is None:  # the caller refuses the change first
        raise ValueError(f"{pc.kind} {pc.request_id!r}: the application it names is not known")
    if isinstance(ch, MoveStage):
        interview = ch.interview_stage if ch.interview_stage is not None else policy(ch.stage)
        return [
            StageChange(
                **base,
                application_id=ch.application_id,
                candidate_id=known.candidate_id,
                to_stage=ch.stage,
                is_interview_stage=interview,
                application=known,  # its job is the scheduling request's
            )
        ]
    if isinstance(ch, RejectApplication):
        return [
            Rejection(
                **base, application_id=ch.application_id, candidate_id=known.candidate_id, reason=ch.reason
            )
        ]
    return [Hire(**base, application_id=ch.application_id, candidate_id=known.candidate_id)]


# ``hire_document`` onto the canonical HRIS fields a push fills (``mapping.FieldMapping.from_dict``): where
# the field mapping of an HRIS connection that takes partners' hires starts (compensation, department, manager
# and location are not pushed: they stay the HRIS's).
HIRE_MAPPING: Mapping[str, Any] = {
    "fields": {
        "first_name": {"source": "candidate.first_name", "required": True},
        "last_name": {"source": "candidate.last_name", "required": True},
        "personal_email": {"source": "candidate.emails[0]", "transform": ["lower"]},
        "title": {"source": "jobs[0].name", "required": True},
        "start_date": {"source": "start_date", "transform": [{"date": ["%Y-%m-%d"]}], "required": True},
    }
}


def hire_document(
    partner_id: str,
    application: Application,
    candidate: Candidate | None,
    jobs: Sequence[Job],
    start_date: date,
) -> dict[str, Any]:
    """What the HRIS field mapping reads for a pushed hire (``ApplicationHired.source_json``): the mirror's
    application, candidate and jobs with the hire's start date. Paths: ``candidate.first_name``,
    ``candidate.last_name``, ``candidate.emails[0]``, ``candidate.phones[0]``, ``jobs[0].name``,
    ``start_date`` (YYYY-MM-DD), ``source``, ``stage.name``, ``id`` (the application), ``partner_id``."""
    stage = application.current_stage
    return {
        "partner_id": partner_id,
        "id": application.remote_id,
        "candidate_id": application.candidate_id or "",
        "source": application.source or "",
        "stage": {"id": stage.remote_id, "name": stage.name or ""} if stage is not None else {},
        "start_date": start_date.isoformat(),
        "candidate": {
            "id": candidate.remote_id,
            "first_name": candidate.first_name or "",
            "last_name": candidate.last_name or "",
            "emails": list(candidate.emails),
            "phones": list(candidate.phones),
        }
        if candidate is not None
        else {},
        "jobs": [{"id": j.remote_id, "name": j.name or ""} for j in jobs],
    }
