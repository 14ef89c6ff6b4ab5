"""``PushPartnerChangesRequest`` -> the domain's partner changes. The batch is checked whole before anything
is applied: every violation is named at once (``changes[3].move_stage.application_id``), INVALID_ARGUMENT."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from interloop.sync.v1 import sync_pb2 as pb
from interloop_common.rpc import Check

from interloop_sync.domain import partner
from interloop_sync.domain.model import Application, Candidate, Job, Stage

ONE_OF = ", ".join(partner.KINDS.values())


def _required(check: Check, value: str, field: str, what: str) -> str:
    check.require(bool(value), field, f"required: {what}")
    return value


def _candidate(m: pb.PartnerCandidate, at: str, check: Check) -> partner.Change:
    cid = _required(check, m.candidate_id, f"{at}.candidate_id", "the partner's id of the candidate")
    for j, email in enumerate(m.emails):
        check.require(partner.looks_like_email(email), f"{at}.emails[{j}]", "an email (name@example.com)")
    return partner.UpsertCandidate(
        Candidate(
            partner.PROVIDER,
            cid,
            first_name=m.first_name or None,  # empty: keep what Interloop holds
            last_name=m.last_name or None,
            emails=tuple(m.emails),
            phones=tuple(p for p in m.phones if p),
        )
    )


def _application(m: pb.PartnerApplication, at: str, check: Check) -> partner.Change:
    app_id = _required(check, m.application_id, f"{at}.application_id", "the partner's id of the application")
    cid = _required(check, m.candidate_id, f"{at}.candidate_id", "the candidate the application is of")
    job_id = _required(check, m.job_id, f"{at}.job_id", "the job applied to (its default panel interviews)")
    check.require(bool(m.stage_id) or not m.stage_name, f"{at}.stage_id", "required with stage_name")
    stage = Stage(m.stage_id, m.stage_name or None) if m.stage_id else None
    return partner.UpsertApplication(
        Application(
            partner.PROVIDER,
            app_id,
            candidate_id=cid,
            job_ids=(job_id,),
            current_stage=stage,
            source=m.source or None,
        ),
        Job(partner.PROVIDER, job_id, name=m.job_name or None),
    )


def _move(m: pb.PartnerStageMove, at: str, check: Check) -> partner.Change:
    app_id = _required(check, m.application_id, f"{at}.application_id", "the application that moved")
    stage_id = _required(check, m.stage_id, f"{at}.stage_id", "the stage the application moved to")
    return partner.MoveStage(
        app_id,
        Stage(stage_id, m.stage_name or None),
        m.interview_stage if m.HasField("interview_stage") else None,
    )


def _reject(m: pb.PartnerRejection, at: str, check: Check) -> partner.Change:
    app_id = _required(check, m.application_id, f"{at}.application_id", "the application rejected")
    return partner.RejectApplication(app_id, m.reason or None)


def _hire(m: pb.PartnerHire, at: str, check: Check) -> partner.Change:
    app_id = _required(check, m.application_id, f"{at}.application_id", "the application hired")
    start = partner.calendar_date(m.start_date)
    check.require(start is not None, f"{at}.start_date", "a date as YYYY-MM-DD (the HRIS hand-off needs it)")
    return partner.HireApplication(app_id, start or date.min)  # None: refused by the check


def _delete(m: pb.PartnerDeletion, at: str, check: Check) -> partner.Change:
    cid = _required(check, m.candidate_id, f"{at}.candidate_id", "the candidate to erase")
    return partner.DeleteCandidate(cid)


# The oneof's field name -> its converter.
_CONVERT: dict[str, Callable[[Any, str, Check], partner.Change]] = {
    "upsert_candidate": _candidate,
    "upsert_application": _application,
    "move_stage": _move,
    "reject_application": _reject,
    "hire_application": _hire,
    "delete_candidate": _delete,
}


def changes_of(request: pb.PushPartnerChangesRequest) -> list[partner.PartnerChange]:
    """The request's changes in order, or ``FieldViolations`` naming every problem of the batch."""
    check = Check().require(bool(request.tenant_id), "tenant_id", "required")
    check.require(bool(request.partner_id), "partner_id", "required: the partner's registry id")
    n = len(request.changes)
    check.require(1 <= n <= partner.MAX_CHANGES, "changes", f"1-{partner.MAX_CHANGES} changes, got {n}")
    first_at: dict[str, int] = {}
    out = []
    for i, ch in enumerate(request.changes):
        at, rid = f"changes[{i}]", ch.request_id
        check.require(
            1 <= len(rid) <= partner.MAX_REQUEST_ID,
            f"{at}.request_id",
            f"1-{partner.MAX_REQUEST_ID} characters: the partner's own id for this change",
        )
        if rid and rid in first_at:
            check.require(False, f"{at}.request_id", f"unique in the batch (changes[{first_at[rid]}] has it)")
        first_at.setdefault(rid, i)
        kind = ch.WhichOneof("change")
        if kind is None:
            check.require(False, f"{at}.change", f"exactly one of {ONE_OF}")
            continue
        out.append(partner.PartnerChange(rid, _CONVERT[kind](getattr(ch, kind), f"{at}.{kind}", check)))
    check.done()
    return out
