"""Vendor webhook JSON → the common model (``model.py``).

``normalise(provider, parsed_json)`` returns a list of events (usually one). Unknown event types become
``Unrecognised`` (recorded, acknowledged); bodies missing what the vendor documents raise
``MalformedPayload`` (quarantined). Which stage change opens a scheduling request is decided by an
``InterviewStagePolicy`` configured per tenant.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .dates import parse_date, parse_timestamp
from .model import (
    Anonymisation,
    Application,
    ApplicationChanged,
    Candidate,
    CandidateChanged,
    Deletion,
    Department,
    Hire,
    Job,
    JobChanged,
    MalformedPayload,
    Merge,
    Money,
    NormalisedEvent,
    Offer,
    OfferChanged,
    Office,
    PersonRef,
    Ping,
    Rejection,
    Stage,
    StageChange,
    Unrecognised,
)

GREENHOUSE = "greenhouse"
LEVER = "lever"
PROVIDERS = (GREENHOUSE, LEVER)


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


def derive_event_id(provider: str, parsed: Mapping[str, Any]) -> str:
    """A stable id for an event when the caller has no delivery id: vendor id/token, else a content hash."""
    if provider == LEVER:
        for key in ("id", "token"):
            value = parsed.get(key)
            if isinstance(value, str) and value:
                return f"{LEVER}:{value}"
    canonical = json.dumps(parsed, sort_keys=True, separators=(",", ":"), default=str).encode()
    return f"{provider}:sha256:{hashlib.sha256(canonical).hexdigest()}"


def normalise(
    provider: str,
    parsed: Any,
    *,
    event_id: str | None = None,
    policy: InterviewStagePolicy = DEFAULT_POLICY,
) -> list[NormalisedEvent]:
    """Turn one parsed webhook body into common-model events.

    ``event_id`` should be the delivery id the inbox deduped on (``signatures.delivery_id``); without it
    one is derived from the body.
    """
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; expected one of {PROVIDERS}")
    if not isinstance(parsed, Mapping):
        raise MalformedPayload(provider, "body is not a JSON object")
    eid = event_id or derive_event_id(provider, parsed)
    if provider == GREENHOUSE:
        return _Greenhouse(eid, policy).events(parsed)
    return _Lever(eid, policy).events(parsed)


# ---- small typed readers that name the path that was wrong -------------------------------------------


class _Reader:
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


def _money(value: Mapping[str, Any]) -> Money | None:
    amount, unit = value.get("amount"), value.get("unit")
    if amount is None or not isinstance(unit, str):
        return None
    try:
        # str() first: an int/float from JSON must not carry binary float noise into the Decimal.
        return Money(Decimal(str(amount)), unit.upper())
    except InvalidOperation:
        return None


def _custom_fields(reader: _Reader, value: Any, path: str) -> dict[str, Any]:
    """Greenhouse custom fields: webhook ``{key: {name, type, value}}`` or Harvest flat ``{key: value}``.

    Keys are Greenhouse's immutable field keys. Currency values become ``Money``; ranges stay dicts.
    """
    if value is None or value == []:  # hire payloads send "custom_fields": [] for an empty opening
        return {}
    fields = reader.obj(value, path)
    out: dict[str, Any] = {}
    for key, entry in fields.items():
        if isinstance(entry, Mapping) and "value" in entry and ("type" in entry or "name" in entry):
            kind, inner = entry.get("type"), entry.get("value")
            if kind == "currency" and isinstance(inner, Mapping):
                out[key] = _money(inner) or dict(inner)
            else:
                out[key] = inner
        else:
            out[key] = entry
    return out


# ---- Greenhouse ----------------------------------------------------------------------------------------


class _Greenhouse(_Reader):
    provider = GREENHOUSE

    def __init__(self, event_id: str, policy: InterviewStagePolicy) -> None:
        self.event_id = event_id
        self.policy = policy

    def _base(self, action: str) -> dict[str, Any]:
        return {"provider": GREENHOUSE, "event_id": self.event_id, "action": action}

    def events(self, body: Mapping[str, Any]) -> list[NormalisedEvent]:
        action = body.get("action")
        if not isinstance(action, str) or not action:
            raise MalformedPayload(GREENHOUSE, "field 'action' missing or not a string", "action")
        payload = self.obj(body.get("payload"), "payload")
        base = self._base(action)
        handler = _GREENHOUSE_HANDLERS.get(action)
        if handler is None:
            return [Unrecognised(**base, raw=dict(body))]
        return handler(self, payload, base)

    # -- object readers

    def person(self, value: Any, path: str) -> PersonRef | None:
        ref = self.opt_obj(value, path)
        if ref is None:
            return None
        return PersonRef(
            remote_id=self.opt_id(ref.get("id") or ref.get("user_id")),
            name=self.opt_str(ref.get("name")),
            email=self.opt_str(ref.get("email")),
            employee_id=self.opt_str(ref.get("employee_id")),
        )

    def candidate(self, value: Any, path: str) -> Candidate:
        c = self.obj(value, path)
        return Candidate(
            provider=GREENHOUSE,
            remote_id=self.req_id(c, "id", path),
            first_name=self.opt_str(c.get("first_name")),
            last_name=self.opt_str(c.get("last_name")),
            emails=tuple(
                str(e["value"]).strip()
                for e in self.items(c.get("email_addresses"), f"{path}.email_addresses")
                if isinstance(e, Mapping) and self.opt_str(e.get("value"))
            ),
            phones=tuple(
                str(p["value"]).strip()
                for p in self.items(c.get("phone_numbers"), f"{path}.phone_numbers")
                if isinstance(p, Mapping) and self.opt_str(p.get("value"))
            ),
            title=self.opt_str(c.get("title")),
            company=self.opt_str(c.get("company")),
            external_id=self.opt_id(c.get("external_id")),
            tags=tuple(str(t) for t in self.items(c.get("tags"), f"{path}.tags")),
            recruiter=self.person(c.get("recruiter"), f"{path}.recruiter"),
            created_at=self.timestamp(c.get("created_at"), f"{path}.created_at"),
            custom_fields=_custom_fields(self, c.get("custom_fields"), f"{path}.custom_fields"),
        )

    def stage(self, value: Any, path: str) -> Stage | None:
        s = self.opt_obj(value, path)
        if s is None:
            return None
        statuses = tuple(
            str(i.get("status"))
            for i in self.items(s.get("interviews"), f"{path}.interviews")
            if isinstance(i, Mapping) and i.get("status") is not None
        )
        return Stage(self.req_id(s, "id", path), self.opt_str(s.get("name")), statuses)

    def job(self, value: Any, path: str) -> Job:
        j = self.obj(value, path)
        return Job(
            provider=GREENHOUSE,
            remote_id=self.req_id(j, "id", path),
            name=self.opt_str(j.get("name")),
            requisition_id=self.opt_id(j.get("requisition_id")),
            status=self.opt_str(j.get("status")),
            departments=tuple(
                Department(
                    self.opt_id(d.get("id")), self.opt_str(d.get("name")), self.opt_id(d.get("external_id"))
                )
                for d in self.items(j.get("departments"), f"{path}.departments")
                if isinstance(d, Mapping)
            ),
            offices=tuple(
                Office(
                    self.opt_id(o.get("id")),
                    self.opt_str(o.get("name")),
                    self.opt_str(o.get("location")),
                    self.opt_id(o.get("external_id")),
                )
                for o in self.items(j.get("offices"), f"{path}.offices")
                if isinstance(o, Mapping)
            ),
            custom_fields=_custom_fields(self, j.get("custom_fields"), f"{path}.custom_fields"),
        )

    def jobs(self, app: Mapping[str, Any], path: str) -> tuple[Job, ...]:
        listed = self.items(app.get("jobs"), f"{path}.jobs")
        if listed:
            return tuple(self.job(j, f"{path}.jobs[{i}]") for i, j in enumerate(listed))
        if app.get("job") is not None:  # deprecated single job on hire payloads
            return (self.job(app["job"], f"{path}.job"),)
        return ()

    def application(self, value: Any, path: str) -> tuple[Application, Candidate | None, tuple[Job, ...]]:
        a = self.obj(value, path)
        candidate = self.candidate(a["candidate"], f"{path}.candidate") if a.get("candidate") else None
        jobs = self.jobs(a, path)
        source = self.opt_obj(a.get("source"), f"{path}.source") or {}
        opening = self.opt_obj(a.get("opening"), f"{path}.opening") or {}
        application = Application(
            provider=GREENHOUSE,
            remote_id=self.req_id(a, "id", path),
            candidate_id=candidate.remote_id if candidate else self.opt_id(a.get("candidate_id")),
            job_ids=tuple(j.remote_id for j in jobs) or tuple(filter(None, [self.opt_id(a.get("job_id"))])),
            status=self.opt_str(a.get("status")),
            prospect=bool(a.get("prospect", False)),
            current_stage=self.stage(a.get("current_stage"), f"{path}.current_stage"),
            applied_at=self.timestamp(a.get("applied_at"), f"{path}.applied_at"),
            rejected_at=self.timestamp(a.get("rejected_at"), f"{path}.rejected_at"),
            source=self.opt_str(source.get("name") or source.get("public_name")),
            opening_id=self.opt_id(opening.get("opening_id")),
            custom_fields=_custom_fields(self, a.get("custom_fields"), f"{path}.custom_fields"),
        )
        return application, candidate, jobs

    def offer(self, value: Any, path: str, application_id: str | None = None) -> Offer:
        o = self.obj(value, path)
        status = self.opt_str(o.get("offer_status") or o.get("status"))
        return Offer(
            provider=GREENHOUSE,
            remote_id=self.req_id(o, "id", path),
            application_id=self.opt_id(o.get("application_id")) or application_id,
            job_id=self.opt_id(o.get("job_id")),
            version=o.get("version") if isinstance(o.get("version"), int) else None,
            status=status.lower() if status else None,
            # hire payloads: starts_at YYYY-MM-DD; offer webhooks: start_date MM/DD/YYYY
            start_date=self.calendar_date(o.get("starts_at") or o.get("start_date"), f"{path}.start_date"),
            sent_at=self.timestamp(o.get("sent_at") or o.get("sent_on"), f"{path}.sent_at"),
            resolved_at=self.timestamp(o.get("resolved_at"), f"{path}.resolved_at"),
            custom_fields=_custom_fields(self, o.get("custom_fields"), f"{path}.custom_fields"),
        )

    # -- handlers

    def on_ping(self, payload: Mapping[str, Any], base: dict[str, Any]) -> list[NormalisedEvent]:
        return [Ping(**base)]

    def on_stage_change(self, payload: Mapping[str, Any], base: dict[str, Any]) -> list[NormalisedEvent]:
        app, candidate, jobs = self.application(payload.get("application"), "payload.application")
        if app.current_stage is None:
            raise MalformedPayload(GREENHOUSE, "stage change without current_stage", "payload.application")
        return [
            StageChange(
                **base,
                occurred_at=self.timestamp(
                    self.obj(payload["application"], "payload.application").get("last_activity_at"),
                    "payload.application.last_activity_at",
                ),
                application_id=app.remote_id,
                candidate_id=app.candidate_id,
                to_stage=app.current_stage,
                is_interview_stage=self.policy(app.current_stage),
                application=app,
                candidate=candidate,
                jobs=jobs,
            )
        ]

    def on_application(self, payload: Mapping[str, Any], base: dict[str, Any]) -> list[NormalisedEvent]:
        app, candidate, jobs = self.application(payload.get("application"), "payload.application")
        created = base["action"] in ("new_candidate_application", "new_prospect_application")
        return [ApplicationChanged(**base, application=app, candidate=candidate, jobs=jobs, created=created)]

    def on_hire(self, payload: Mapping[str, Any], base: dict[str, Any]) -> list[NormalisedEvent]:
        raw = self.obj(payload.get("application"), "payload.application")
        app, candidate, jobs = self.application(raw, "payload.application")
        offer = (
            self.offer(raw["offer"], "payload.application.offer", app.remote_id) if raw.get("offer") else None
        )
        return [
            Hire(
                **base,
                occurred_at=offer.resolved_at if offer else None,
                application_id=app.remote_id,
                candidate_id=app.candidate_id,
                application=app,
                candidate=candidate,
                offer=offer,
                jobs=jobs,
                reverted=base["action"] == "unhire_candidate",
            )
        ]

    def on_reject(self, payload: Mapping[str, Any], base: dict[str, Any]) -> list[NormalisedEvent]:
        raw = self.obj(payload.get("application"), "payload.application")
        app, _, _ = self.application(raw, "payload.application")
        reason = self.opt_obj(raw.get("rejection_reason"), "payload.application.rejection_reason") or {}
        return [
            Rejection(
                **base,
                occurred_at=app.rejected_at,
                application_id=app.remote_id,
                candidate_id=app.candidate_id,
                reason=self.opt_str(reason.get("name")),
                reason_id=self.opt_id(reason.get("id")),
                reverted=base["action"] == "unreject_candidate",
                application=app,
            )
        ]

    def on_update_candidate(self, payload: Mapping[str, Any], base: dict[str, Any]) -> list[NormalisedEvent]:
        if payload.get("candidate") is not None:
            return [
                CandidateChanged(**base, candidate=self.candidate(payload["candidate"], "payload.candidate"))
            ]
        app = self.obj(payload.get("application"), "payload.application")
        candidate = self.candidate(app.get("candidate"), "payload.application.candidate")
        return [CandidateChanged(**base, candidate=candidate)]

    def on_delete_candidate(self, payload: Mapping[str, Any], base: dict[str, Any]) -> list[NormalisedEvent]:
        person = self.obj(payload.get("person"), "payload.person")
        related = tuple(
            str(i)
            for i in self.items(
                person.get("deleted_application_ids"), "payload.person.deleted_application_ids"
            )
        )
        return [
            Deletion(
                **base,
                entity="candidate",
                remote_id=self.req_id(person, "id", "payload.person"),
                related_ids=related,
            )
        ]

    def on_merge(self, payload: Mapping[str, Any], base: dict[str, Any]) -> list[NormalisedEvent]:
        person = self.obj(payload.get("person"), "payload.person")
        return [
            Merge(
                **base,
                surviving_id=self.req_id(person, "new_candidate_id", "payload.person"),
                merged_id=self.req_id(person, "id", "payload.person"),
            )
        ]

    def on_anonymised(self, payload: Mapping[str, Any], base: dict[str, Any]) -> list[NormalisedEvent]:
        fields = tuple(
            str(f) for f in self.items(payload.get("anonymized_fields"), "payload.anonymized_fields")
        )
        return [
            Anonymisation(**base, candidate_id=self.req_id(payload, "candidate_id", "payload"), fields=fields)
        ]

    def on_delete_application(
        self, payload: Mapping[str, Any], base: dict[str, Any]
    ) -> list[NormalisedEvent]:
        app = self.obj(payload.get("application"), "payload.application")
        related = tuple(filter(None, [self.opt_id(app.get("candidate_id"))]))
        return [
            Deletion(
                **base,
                entity="application",
                remote_id=self.req_id(app, "id", "payload.application"),
                related_ids=related,
            )
        ]

    def on_offer(self, payload: Mapping[str, Any], base: dict[str, Any]) -> list[NormalisedEvent]:
        # offer_created/updated/approved are flat; offer_deleted nests under "offer".
        raw, path = (payload["offer"], "payload.offer") if "offer" in payload else (payload, "payload")
        change = base["action"].removeprefix("offer_")
        return [OfferChanged(**base, offer=self.offer(raw, path), change=change)]

    def on_interview_deleted(self, payload: Mapping[str, Any], base: dict[str, Any]) -> list[NormalisedEvent]:
        interview = self.obj(payload.get("interview"), "payload.interview")
        return [
            Deletion(**base, entity="interview", remote_id=self.req_id(interview, "id", "payload.interview"))
        ]

    def on_scorecard_deleted(self, payload: Mapping[str, Any], base: dict[str, Any]) -> list[NormalisedEvent]:
        card = self.obj(payload.get("scorecard"), "payload.scorecard")
        related = tuple(filter(None, [self.opt_id(card.get("candidate_id"))]))
        return [
            Deletion(
                **base,
                entity="scorecard",
                remote_id=self.req_id(card, "id", "payload.scorecard"),
                related_ids=related,
            )
        ]

    def on_job(self, payload: Mapping[str, Any], base: dict[str, Any]) -> list[NormalisedEvent]:
        if not isinstance(payload.get("job"), Mapping):
            return [Unrecognised(**base, raw={"action": base["action"], "payload": dict(payload)})]
        job = self.job(payload["job"], "payload.job")
        change = base["action"].removeprefix("job_")
        if change == "deleted":
            return [Deletion(**base, entity="job", remote_id=job.remote_id)]
        return [JobChanged(**base, job=job, change=change)]


_GREENHOUSE_HANDLERS = {
    "ping": _Greenhouse.on_ping,
    "candidate_stage_change": _Greenhouse.on_stage_change,
    "new_candidate_application": _Greenhouse.on_application,
    "new_prospect_application": _Greenhouse.on_application,
    "application_updated": _Greenhouse.on_application,
    "hire_candidate": _Greenhouse.on_hire,
    "unhire_candidate": _Greenhouse.on_hire,
    "reject_candidate": _Greenhouse.on_reject,
    "unreject_candidate": _Greenhouse.on_reject,
    "update_candidate": _Greenhouse.on_update_candidate,
    "delete_candidate": _Greenhouse.on_delete_candidate,
    "merge_candidate": _Greenhouse.on_merge,
    "candidate_anonymized": _Greenhouse.on_anonymised,
    "delete_application": _Greenhouse.on_delete_application,
    "offer_created": _Greenhouse.on_offer,
    "offer_approved": _Greenhouse.on_offer,
    "offer_updated": _Greenhouse.on_offer,
    "offer_deleted": _Greenhouse.on_offer,
    "interview_deleted": _Greenhouse.on_interview_deleted,
    "scorecard_deleted": _Greenhouse.on_scorecard_deleted,
    "job_created": _Greenhouse.on_job,
    "job_updated": _Greenhouse.on_job,
    "job_approved": _Greenhouse.on_job,
    "job_deleted": _Greenhouse.on_job,
}


# ---- Lever ---------------------------------------------------------------------------------------------


class _Lever(_Reader):
    provider = LEVER

    def __init__(self, event_id: str, policy: InterviewStagePolicy) -> None:
        self.event_id = event_id
        self.policy = policy

    def events(self, body: Mapping[str, Any]) -> list[NormalisedEvent]:
        event = body.get("event")
        if not isinstance(event, str) or not event:
            raise MalformedPayload(LEVER, "field 'event' missing or not a string", "event")
        data = self.obj(body.get("data"), "data")
        base: dict[str, Any] = {
            "provider": LEVER,
            "event_id": self.event_id,
            "action": event,
            "occurred_at": self.timestamp(body.get("triggeredAt"), "triggeredAt"),
        }
        if not data:
            # The settings-page "test request" carries the event name with empty data.
            return [Ping(**base)]
        opportunity = self.opt_id(data.get("opportunityId")) or self.opt_id(data.get("candidateId"))
        contact = self.opt_id(data.get("contactId"))

        def need_opportunity() -> str:
            if opportunity is None:
                raise MalformedPayload(LEVER, "required id 'opportunityId' missing", "data")
            return opportunity

        if event == "candidateStageChange":
            to_id = self.req_id(data, "toStageId", "data")
            from_id = self.opt_id(data.get("fromStageId"))
            to_stage = Stage(to_id, self.policy.name_of(to_id))
            return [
                StageChange(
                    **base,
                    application_id=need_opportunity(),
                    candidate_id=contact,
                    contact_id=contact,
                    to_stage=to_stage,
                    from_stage=Stage(from_id, self.policy.name_of(from_id)) if from_id else None,
                    is_interview_stage=self.policy(to_stage),
                )
            ]
        if event == "candidateHired":
            return [Hire(**base, application_id=need_opportunity(), candidate_id=contact)]
        if event == "candidateArchiveChange":
            to_archived = self.opt_obj(data.get("toArchived"), "data.toArchived")
            return [
                Rejection(
                    **base,
                    application_id=need_opportunity(),
                    candidate_id=contact,
                    reason_id=self.opt_id(to_archived.get("reason")) if to_archived else None,
                    reverted=to_archived is None,
                )
            ]
        if event == "candidateDeleted":
            return [
                Deletion(
                    **base,
                    entity="opportunity",
                    remote_id=need_opportunity(),
                    related_ids=tuple(filter(None, [contact])),
                )
            ]
        if event == "applicationCreated":
            app = Application(
                provider=LEVER,
                remote_id=need_opportunity(),
                candidate_id=contact,
                job_ids=tuple(filter(None, [self.opt_id(data.get("postingId"))])),
            )
            return [ApplicationChanged(**base, application=app, created=True)]
        if event in ("contactCreated", "contactUpdated"):
            contact_id = self.req_id(data, "contactId", "data") if contact is None else contact
            return [CandidateChanged(**base, candidate=Candidate(provider=LEVER, remote_id=contact_id))]
        if event == "interviewDeleted":
            return [
                Deletion(
                    **base,
                    entity="interview",
                    remote_id=self.req_id(data, "interviewId", "data"),
                    related_ids=tuple(filter(None, [opportunity])),
                )
            ]
        return [Unrecognised(**base, raw=dict(body))]


def actions_of(events: Iterable[NormalisedEvent]) -> list[str]:
    """The vendor action names of ``events`` (metrics label helper)."""
    return [e.action for e in events]
