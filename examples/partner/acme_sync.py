"""Acme ATS <-> Interloop over the partner gRPC API (interloop.partner.v1.PartnerService): an example to read.

The two halves of an ATS integration:

* ``push_stage_move``: a candidate moved to a stage in Acme's ATS. Interloop is told with three calls
  (UpsertCandidate, UpsertApplication, MoveStage). Each request id is made from what the request says, so a
  retry after a timeout, a crash or a rate limit carries the same id and is answered DUPLICATE.
* ``follow``: the tenant's interview, scorecard and decision events, resumed from the position kept in a
  file. Delivery is at least once: events are deduped by id, and the position is written after each item.

Try it on a local stack (``make run``; the gateway's gRPC port is 50064)::

    export INTERLOOP_PARTNER_KEY=ilp_...            # from `interloop partners register acme-ats`
    python examples/partner/acme_sync.py --tenant acme push --candidate cand-1 --application app-1 \\
        --job job-7 --stage "Onsite Interview" --email ada@example.com
    python examples/partner/acme_sync.py --tenant acme follow --position-file acme.position

Needs grpcio and the Python code generated from proto/interloop (the interloop-protos package in this repo;
elsewhere ``python -m grpc_tools.protoc`` on the .proto files). RetryInfo is honoured when
googleapis-common-protos is installed too (grpcio-status brings it); without it the backoff decides.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import inspect
import json
import logging
import os
import random
import sys
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message
from interloop.events.v1 import interview_pb2, scorecard_pb2
from interloop.partner.v1 import partner_pb2 as pb
from interloop.partner.v1 import partner_pb2_grpc
from interloop.sync.v1 import sync_pb2 as spb

try:  # optional: the server's RetryInfo says exactly when a rate-limited call may be retried
    from google.rpc import error_details_pb2, status_pb2
except ImportError:  # pragma: no cover - then backoff() alone decides
    error_details_pb2 = status_pb2 = None  # type: ignore[assignment]

log = logging.getLogger("acme_sync")

Metadata = Sequence[tuple[str, str]]
CALL_TIMEOUT = 10.0  # seconds per unary call
ATTEMPTS = 6  # per unary call, the first included
MAX_BACKOFF = 30.0  # seconds
# Worth another try: Interloop was away, busy, or did not answer in time. A repeat is safe only because the
# request id makes it a no-op when the first try did arrive.
RETRYABLE = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.DEADLINE_EXCEEDED}
)
# The event types' payloads (interloop.events.v1); a type added later has none here and is still delivered.
PAYLOADS: Mapping[str, type[Message]] = {
    "interview.scheduled": interview_pb2.InterviewScheduled,
    "interview.rescheduled": interview_pb2.InterviewScheduled,
    "interview.cancelled": interview_pb2.InterviewCancelled,
    "interview.completed": interview_pb2.InterviewCompleted,
    "scorecard.submitted": scorecard_pb2.ScorecardSubmitted,
    "scorecard.overdue": scorecard_pb2.ScorecardOverdue,
    "decision.recorded": scorecard_pb2.DecisionRecorded,
}


def partner_metadata(key: str, tenant: str) -> list[tuple[str, str]]:
    """What every call carries: the partner's key and the tenant it acts for."""
    return [("authorization", f"Bearer {key}"), ("x-tenant-id", tenant)]


# ---- push ----------------------------------------------------------------------------------------------


def request_id(kind: str, content: Mapping[str, Any]) -> str:
    """An id made from what the request says: the same request again gets the same id (Interloop answers
    DUPLICATE and changes nothing), a different one a different id. At most 200 characters."""
    canonical = json.dumps([kind, content], sort_keys=True, separators=(",", ":"))
    return f"acme-{kind}-{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"


def backoff(attempt: int) -> float:
    """Seconds before try number ``attempt + 1``: doubling from 0.5 s up to MAX_BACKOFF, half of it random so
    that clients cut off together do not come back together."""
    ceiling = min(MAX_BACKOFF, 0.5 * 2 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def retry_delay(error: grpc.aio.AioRpcError, attempt: int) -> float:
    """The server's google.rpc.RetryInfo when it sent one (RESOURCE_EXHAUSTED does), else ``backoff``."""
    if status_pb2 is not None:
        for key, value in error.trailing_metadata() or ():
            if key != "grpc-status-details-bin":
                continue
            for detail in status_pb2.Status.FromString(value).details:
                info = error_details_pb2.RetryInfo()
                if detail.Unpack(info):
                    return info.retry_delay.ToTimedelta().total_seconds()
    return backoff(attempt)


async def _call(rpc: Callable[..., Awaitable[Any]], request: Message, metadata: Metadata) -> Any:
    """One unary call, tried again while Interloop says it is worth it."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await rpc(request, metadata=metadata, timeout=CALL_TIMEOUT)
        except grpc.aio.AioRpcError as error:
            if error.code() not in RETRYABLE or attempt == ATTEMPTS:
                raise
            delay = retry_delay(error, attempt)
            log.warning("%s: %s; retrying in %.1fs", type(request).__name__, error.code().name, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


async def push_stage_move(
    stub: partner_pb2_grpc.PartnerServiceStub,
    metadata: Metadata,
    *,
    candidate: str,
    application: str,
    job: str,
    stage: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    stage_id: str = "",
    interview_stage: bool | None = None,
    change_id: str = "",
) -> dict[str, str]:
    """Tell Interloop that ``candidate``'s application ``application`` to job ``job`` moved to ``stage``.

    ``candidate``, ``application`` and ``job`` are Acme's ids; ``stage`` is the stage's name and ``stage_id``
    Acme's id of it (default: the name). A move into an interview stage opens a self-scheduling request for
    the job's default panel and emails the link to ``email``; ``interview_stage`` says whether it is one
    (None: the tenant's policy decides from the name, e.g. one containing "interview").

    The three calls go in order (a move needs its application known, an application its candidate). Each is
    idempotent by its request id, so calling this again after any failure is safe. ``change_id`` is Acme's id
    of this change (a sequence number, an audit-log id): without it a move back to a stage the application
    held before would look like a retry and be answered DUPLICATE.

    Returns each step's outcome, e.g. ``{"candidate": "INGEST_OUTCOME_ACCEPTED", ...}``.
    """
    cand = {"candidate_id": candidate, "first_name": first_name, "last_name": last_name, "emails": [email]}
    app = {"application_id": application, "candidate_id": candidate, "job_id": job}
    move: dict[str, Any] = {"application_id": application, "stage_id": stage_id or stage, "stage_name": stage}
    if interview_stage is not None:
        move["interview_stage"] = interview_stage
    requests = {
        "candidate": (
            stub.UpsertCandidate,
            pb.UpsertCandidateRequest(
                request_id=request_id("candidate", cand), candidate=spb.PartnerCandidate(**cand)
            ),
        ),
        "application": (
            stub.UpsertApplication,
            pb.UpsertApplicationRequest(
                request_id=request_id("application", app), application=spb.PartnerApplication(**app)
            ),
        ),
        "move": (
            stub.MoveStage,
            pb.MoveStageRequest(
                request_id=request_id("move", {**move, "change_id": change_id}),
                move=spb.PartnerStageMove(**move),
            ),
        ),
    }
    outcomes = {}
    for step, (rpc, request) in requests.items():
        response = await _call(rpc, request, metadata)
        outcomes[step] = spb.IngestOutcome.Name(response.outcome)
        log.info("%s %s: %s", step, request.request_id, outcomes[step])
    return outcomes


# ---- follow --------------------------------------------------------------------------------------------


class RecentIds:
    """The last ``size`` event ids seen: a redelivery comes soon after the original."""

    def __init__(self, size: int = 10_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def add(self, event_id: str) -> bool:
        """Whether ``event_id`` is new (it is remembered from now on)."""
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True


def payload_of(event: pb.PartnerEvent) -> Message | None:
    """The event's interloop.events.v1 message (e.g. InterviewScheduled with its booking_id), or None for a
    type this client does not know yet."""
    kind = PAYLOADS.get(event.type)
    if kind is None:
        return None
    message = kind()
    return message if event.payload.Unpack(message) else None


def _stored(path: Path, start: str) -> str:
    """The position stored last, or ``start`` before the first."""
    return path.read_text().strip() if path.exists() else start


def _store(path: Path, position: str) -> None:
    """Replace the file whole (write, then rename): a crash never leaves half a position behind."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(position)
    os.replace(tmp, path)


async def follow(
    stub: partner_pb2_grpc.PartnerServiceStub,
    metadata: Metadata,
    *,
    position_file: str | os.PathLike[str],
    until: Callable[[pb.PartnerEvent], bool],
    handle: Callable[[pb.PartnerEvent], Awaitable[None] | None] | None = None,
    types: Sequence[str] = (),
    start: str = "earliest",
) -> pb.PartnerEvent:
    """Follow the tenant's events until ``until(event)`` is true; returns that event.

    Resumes from the position stored in ``position_file`` (``start`` when there is none: "earliest" for
    everything still kept, "" for from now on). Each new event goes to ``handle`` (may be async), then the
    item's position is stored — after, so a crash in between repeats an event rather than losing one; a
    heartbeat's position is stored too. An event id seen before is skipped. When the stream ends UNAVAILABLE
    (a gateway pod draining) or RESOURCE_EXHAUSTED, it reconnects from the stored position with backoff;
    any other error is raised. ``types`` narrows the stream (e.g. ["decision.recorded"]); empty: all.
    """
    path = Path(position_file)
    seen = RecentIds()
    failures = 0
    while True:
        position = _stored(path, start)
        call = stub.SubscribeEvents(
            pb.SubscribeEventsRequest(position=position, types=list(types)), metadata=metadata
        )
        try:
            async for item in call:
                failures = 0
                done = False
                if item.HasField("event") and seen.add(item.event.id):
                    if handle is not None:
                        result = handle(item.event)
                        if inspect.isawaitable(result):
                            await result
                    done = until(item.event)
                _store(path, item.position)
                if done:
                    return item.event
            # Normally a stream ends UNAVAILABLE; one that just ends is reconnected all the same.
            reason, delay = "the stream ended", backoff(failures + 1)
        except grpc.aio.AioRpcError as error:
            if error.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED):
                raise
            reason, delay = f"{error.code().name}: {error.details()}", retry_delay(error, failures + 1)
        finally:
            call.cancel()  # a no-op when it ended; closes it when `until` stopped us mid-stream
        failures += 1
        log.warning("%s; reconnecting in %.1fs from the stored position", reason, delay)
        await asyncio.sleep(delay)


# ---- command line --------------------------------------------------------------------------------------


def _print_event(event: pb.PartnerEvent) -> None:
    payload = payload_of(event)
    line = {
        "id": event.id,
        "type": event.type,
        "time": event.time.ToJsonString(),
        "subject": event.subject,
        "payload": json_format.MessageToDict(payload) if payload is not None else None,
    }
    print(json.dumps(line), flush=True)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Acme ATS <-> Interloop: push a stage move, or follow the tenant's events."
    )
    p.add_argument("--target", default="127.0.0.1:50064", help="the gateway's gRPC address (%(default)s)")
    key = os.environ.get("INTERLOOP_PARTNER_KEY")
    p.add_argument("--key", default=key, help="the partner key, ilp_... (default: $INTERLOOP_PARTNER_KEY)")
    p.add_argument("--tenant", required=True, help="the tenant to act for (x-tenant-id)")
    p.add_argument("--tls", action="store_true", help="connect with TLS (the system's roots)")
    sub = p.add_subparsers(dest="command", required=True)

    push = sub.add_parser("push", help="push a stage move (candidate, application, move)")
    for name in ("candidate", "application", "job"):
        push.add_argument(f"--{name}", required=True, help=f"Acme's {name} id")
    push.add_argument("--stage", required=True, help='the stage\'s name, e.g. "Onsite Interview"')
    push.add_argument("--stage-id", default="", help="Acme's id of the stage (default: its name)")
    push.add_argument("--email", required=True, help="the candidate's email (gets the scheduling link)")
    push.add_argument("--first-name", default="")
    push.add_argument("--last-name", default="")
    push.add_argument("--change-id", default="", help="Acme's id of this change (a move back is no retry)")

    fol = sub.add_parser("follow", help="print the tenant's events as JSON lines, resuming where it stopped")
    fol.add_argument("--position-file", default="acme.position", help="where the position is kept")
    fol.add_argument("--types", nargs="*", default=[], help="event types to receive (default: all)")
    fol.add_argument(
        "--start", choices=("earliest", "now"), default="earliest", help="without a stored position"
    )
    fol.add_argument("--until-type", help="stop after the first event of this type (default: run on)")
    return p


async def _run(args: argparse.Namespace) -> None:
    metadata = partner_metadata(args.key, args.tenant)
    channel = (
        grpc.aio.secure_channel(args.target, grpc.ssl_channel_credentials())
        if args.tls
        else grpc.aio.insecure_channel(args.target)
    )
    async with channel:
        stub = partner_pb2_grpc.PartnerServiceStub(channel)
        info = await _call(stub.GetPartnerInfo, pb.GetPartnerInfoRequest(), metadata)
        who = (info.partner_id, info.tenant_id, info.api_version, ",".join(info.scopes))
        log.info("partner %s, tenant %s, API %s, scopes %s", *who)
        if args.command == "push":
            outcomes = await push_stage_move(
                stub,
                metadata,
                candidate=args.candidate,
                application=args.application,
                job=args.job,
                stage=args.stage,
                email=args.email,
                first_name=args.first_name,
                last_name=args.last_name,
                stage_id=args.stage_id,
                change_id=args.change_id,
            )
            print(json.dumps(outcomes))
        else:
            await follow(
                stub,
                metadata,
                position_file=args.position_file,
                until=lambda event: event.type == args.until_type,
                handle=_print_event,
                types=args.types,
                start="" if args.start == "now" else "earliest",
            )


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not args.key:
        parser().error("--key (or $INTERLOOP_PARTNER_KEY) is required")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    try:
        asyncio.run(_run(args))
    except grpc.aio.AioRpcError as error:
        log.error("%s: %s", error.code().name, error.details())
        return 1
    except KeyboardInterrupt:
        pass  # the position is stored: the next run resumes from it
    return 0


if __name__ == "__main__":
    sys.exit(main())
