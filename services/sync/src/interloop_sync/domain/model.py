"""The common hiring model every vendor payload is normalised into.

Every record carries ``provider`` and the vendor's own ids as strings (ids from other systems are never
ints in our model: Greenhouse sends ints, Lever UUIDs). Events are frozen dataclasses; ``NormalisedEvent``
is the union the sync service switches on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


class MalformedPayload(Exception):
    """A webhook body that cannot be understood; the caller quarantines it (never retried as-is)."""

    def __init__(self, provider: str, reason: str, path: str = "") -> None:
        where = f" at {path}" if path else ""
        super().__init__(f"malformed {provider} payload{where}: {reason}")
        self.provider = provider
        self.reason = reason
        self.path = path


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str  # ISO-4217


@dataclass(frozen=True, slots=True)
class Stage:
    remote_id: str
    name: str | None = None
    # Greenhouse lists the stage's interviews and their status (to_be_scheduled, scheduled, …).
    interview_statuses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Department:
    remote_id: str | None
    name: str | None
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class Office:
    remote_id: str | None
    name: str | None
    location: str | None = None
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class PersonRef:
    """A vendor user (recruiter, coordinator, hiring manager)."""

    remote_id: str | None
    name: str | None = None
    email: str | None = None
    employee_id: str | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    provider: str
    remote_id: str
    first_name: str | None = None
    last_name: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    title: str | None = None
    company: str | None = None
    external_id: str | None = None
    tags: tuple[str, ...] = ()
    recruiter: PersonRef | None = None
    created_at: datetime | None = None
    custom_fields: Mapping[str, Any] = field(default_factory=dict)
    # The anonymised placeholder Greenhouse leaves behind, or an erased copy of ours.
    is_anonymised: bool = False


@dataclass(frozen=True, slots=True)
class Job:
    provider: str
    remote_id: str
    name: str | None = None
    requisition_id: str | None = None
    status: str | None = None
    departments: tuple[Department, ...] = ()
    offices: tuple[Office, ...] = ()
    custom_fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Application:
    provider: str
    remote_id: str
    candidate_id: str | None = None
    job_ids: tuple[str, ...] = ()
    status: str | None = None
    prospect: bool = False
    current_stage: Stage | None = None
    applied_at: datetime | None = None
    rejected_at: datetime | None = None
    source: str | None = None
    opening_id: str | None = None
    custom_fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Offer:
    provider: str
    remote_id: str
    application_id: str | None = None
    job_id: str | None = None
    version: int | None = None
    status: str | None = None  # lower-case: created, accepted, rejected, deprecated, unresolved
    start_date: date | None = None
    sent_at: datetime | None = None
    resolved_at: datetime | None = None
    # key -> plain value; currency fields become Money.
    custom_fields: Mapping[str, Any] = field(default_factory=dict)


# ---- events ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class EventBase:
    provider: str
    event_id: str  # stable per delivered event; with a rule id it forms the automation idempotency key
    action: str  # the vendor's own event name, kept for audit and metrics
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Ping(EventBase):
    """A vendor's configuration check (Greenhouse ``ping``, Lever's settings-page test request)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CandidateChanged(EventBase):
    candidate: Candidate


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationChanged(EventBase):
    application: Application
    candidate: Candidate | None = None
    jobs: tuple[Job, ...] = ()
    created: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class StageChange(EventBase):
    """An application moved stage. ``is_interview_stage`` is the scheduler's trigger.

    Greenhouse does not send the previous stage (``from_stage`` is None): the caller compares with the
    last stage it stored to tell "entered" from "still in" an interview stage.
    """

    application_id: str
    candidate_id: str | None
    to_stage: Stage
    from_stage: Stage | None = None
    is_interview_stage: bool = False
    application: Application | None = None
    candidate: Candidate | None = None
    jobs: tuple[Job, ...] = ()
    contact_id: str | None = None  # Lever person id


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferChanged(EventBase):
    offer: Offer
    change: str  # created | updated | approved | deleted


@dataclass(frozen=True, slots=True, kw_only=True)
class Hire(EventBase):
    """Offer accepted: the ATS→HRIS push starts here."""

    application_id: str
    candidate_id: str | None
    application: Application | None = None
    candidate: Candidate | None = None
    offer: Offer | None = None
    jobs: tuple[Job, ...] = ()
    reverted: bool = False  # Greenhouse unhire_candidate


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejection(EventBase):
    application_id: str
    candidate_id: str | None
    reason: str | None = None
    reason_id: str | None = None
    reverted: bool = False  # unreject / unarchive
    application: Application | None = None
    withdrawn: bool = False  # the candidate withdrew, rather than being rejected


@dataclass(frozen=True, slots=True, kw_only=True)
class Merge(EventBase):
    """Two candidate records became one: remap ``merged_id`` to ``surviving_id``, never delete."""

    surviving_id: str
    merged_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Deletion(EventBase):
    entity: str  # candidate | application | opportunity | interview | scorecard | offer | job
    remote_id: str
    related_ids: tuple[str, ...] = ()  # e.g. the deleted application ids of a deleted candidate


@dataclass(frozen=True, slots=True, kw_only=True)
class Anonymisation(EventBase):
    candidate_id: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class JobChanged(EventBase):
    job: Job
    change: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Unrecognised(EventBase):
    """An event type we do not model: recorded and acknowledged, never dropped."""

    raw: Mapping[str, Any] = field(default_factory=dict)


NormalisedEvent = (
    Ping
    | CandidateChanged
    | ApplicationChanged
    | StageChange
    | OfferChanged
    | Hire
    | Rejection
    | Merge
    | Deletion
    | Anonymisation
    | JobChanged
    | Unrecognised
)
