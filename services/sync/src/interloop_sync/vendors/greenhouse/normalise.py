"""Greenhouse JSON -> the common model (``domain/model.py``), pure: webhook bodies (``action`` + ``payload``)
and Harvest's application objects, which share the webhook's shape (reconciliation)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ...domain.model import (
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
from ...domain.normalise import (
    DEFAULT_POLICY,
    InterviewStagePolicy,
    Reader,
    body_object,
    content_event_id,
    is_withdrawal,
)
from ..ats import Polled

PROVIDER = "greenhouse"


def normalise(
    parsed: Any, *, event_id: str | None = None, policy: InterviewStagePolicy = DEFAULT_POLICY
) -> list[NormalisedEvent]:
    """One parsed webhook body as common-model events (``event_id``: the delivery id, else a body hash)."""
    body = body_object(PROVIDER, parsed)
    return _Greenhouse(event_id or content_event_id(PROVIDER, body), policy).events(body)


def polled(item: Mapping[str, Any], policy: InterviewStagePolicy) -> Polled:
    """A Harvest application (reconciliation) in the common model."""
    app, cand, jobs = _Greenhouse("reconcile", policy).application(item, "harvest")
    if cand is None and app.candidate_id:
        cand = Candidate(PROVIDER, app.candidate_id)  # Harvest applications carry the id only
    return Polled(app, cand, jobs, app.current_stage)


def hire_source(parsed: Mapping[str, Any]) -> Any:
    """The application of a hire webhook: what the HRIS field mapping reads."""
    return parsed.get("payload", {}).get("application")


def _money(value: Mapping[str, Any]) -> Money | None:
    amount, unit = value.get("amount"), value.get("unit")
    if amount is None or not isinstance(unit, str):
        return None
    try:
        # str() first: an int/float from JSON must not carry binary float noise into the Decimal.
        return Money(Decimal(str(amount)), unit.upper())
    except InvalidOperation:
        return None


def _custom_fields(reader: Reader, value: Any, path: str) -> dict[str, Any]:
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


class _Greenhouse(Reader):
    provider = PROVIDER

    def __init__(self, event_id: str, policy: InterviewStagePolicy) -> None:
        self.event_id = event_id
        self.policy = policy

    def _base(self, action: str) -> dict[str, Any]:
        return {"provider": PROVIDER, "event_id": self.event_id, "action": action}

    def events(self, body: Mapping[str, Any]) -> list[NormalisedEvent]:
        action = body.get("action")
        if not isinstance(action, str) or not action:
            raise MalformedPayload(PROVIDER, "field 'action' missing or not a string", "action")
        payload = self.obj(body.get("payload"), "payload")
        base = self._base(action)
        handler = _HANDLERS.get(action)
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
            provider=PROVIDER,
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
            provider=PROVIDER,
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
            provider=PROVIDER,
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
            provider=PROVIDER,
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
            raise MalformedPayload(PROVIDER, "stage change without current_stage", "payload.application")
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
        kind = self.opt_obj(reason.get("type"), "payload.application.rejection_reason.type") or {}
        name = self.opt_str(reason.get("name"))
        return [
            Rejection(
                **base,
                occurred_at=app.rejected_at,
                application_id=app.remote_id,
                candidate_id=app.candidate_id,
                reason=name,
                reason_id=self.opt_id(reason.get("id")),
                reverted=base["action"] == "unreject_candidate",
                application=app,
                withdrawn=is_withdrawal(name, self.opt_str(kind.get("name"))),
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


_HANDLERS = {
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
