"""The partner clients (issue 13): the Go client published from clients/go is never stale (clients/generate.sh
with buf.gen.go.yaml makes it byte for byte), is tidy, builds and vets with its example; the Python example
(examples/partner/acme_sync.py) runs as a command, and its push_stage_move and follow do what they promise
against an in-process PartnerService: request ids from the content (a retry is a duplicate), retries of
what is worth retrying only, reconnects from the stored position, dedupe by event id. The run against the
live stack belongs to the integration tests."""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
import pytest
from interloop.events.v1 import interview_pb2
from interloop.partner.v1 import partner_pb2 as pb
from interloop.partner.v1 import partner_pb2_grpc
from interloop.sync.v1 import sync_pb2 as spb

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
GO_CLIENT = ROOT / "clients/go"
EXAMPLE = ROOT / "examples/partner/acme_sync.py"
META = [("authorization", "Bearer ilp_test"), ("x-tenant-id", "acme")]
STAGE_MOVE = {
    "candidate": "cand-1",
    "application": "app-1",
    "job": "job-7",
    "stage": "Onsite Interview",
    "email": "ada@example.com",
}


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        pytest.fail(
            "Go is missing: the partner Go client (clients/go) needs Go 1.26+ on PATH to install its protoc "
            "plugins and to build; install Go and rerun"
        )
    return go


def _run(cmd: list[str], cwd: Path) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=540)
    assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ---- the Go client ---------------------------------------------------------------------------------------


def test_the_checked_in_go_client_is_what_generate_sh_makes(tmp_path: Path) -> None:
    _go()
    _run(["bash", str(ROOT / "clients/generate.sh"), str(tmp_path)], ROOT)
    # generate.sh writes only the generated tree: go.mod, go.sum and examples/ are never touched.
    assert [p.name for p in (tmp_path / "clients/go").iterdir()] == ["interloop"]
    fresh, checked_in = _tree(tmp_path / "clients/go/interloop"), _tree(GO_CLIENT / "interloop")
    hint = "run clients/generate.sh and commit clients/go"
    assert sorted(fresh) == sorted(checked_in), hint
    assert [name for name in fresh if fresh[name] != checked_in[name]] == [], hint
    # What a partner needs and no more: the partner service's stubs, no internal service's.
    assert [n for n in fresh if n.endswith("_grpc.pb.go")] == ["partner/v1/partner_grpc.pb.go"]
    assert {"events/v1/interview.pb.go", "events/v1/scorecard.pb.go"} <= set(fresh)


def test_the_go_client_and_its_example_are_tidy_build_and_vet() -> None:
    go = _go()
    _run([go, "mod", "tidy", "-diff"], GO_CLIENT)  # go.mod and go.sum name exactly what the code imports
    _run([go, "build", "./..."], GO_CLIENT)
    _run([go, "vet", "./..."], GO_CLIENT)


# ---- the Python example: as a command ----------------------------------------------------------------------


def test_the_python_example_answers_help_for_each_command() -> None:
    top = _run([sys.executable, str(EXAMPLE), "--help"], ROOT)
    for word in ("--target", "--key", "--tenant", "--tls", "push", "follow"):
        assert word in top, top
    push = _run([sys.executable, str(EXAMPLE), "push", "--help"], ROOT)
    for word in ("--candidate", "--application", "--job", "--stage", "--email", "--change-id"):
        assert word in push, push
    follow = _run([sys.executable, str(EXAMPLE), "follow", "--help"], ROOT)
    for word in ("--position-file", "--types", "--start", "--until-type"):
        assert word in follow, follow


def test_the_python_example_refuses_to_run_without_a_key() -> None:
    env = {k: v for k, v in os.environ.items() if k != "INTERLOOP_PARTNER_KEY"}
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE), "--tenant", "acme", "follow"], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 2 and "--key" in proc.stderr, proc.stderr


# ---- the Python example: its functions against an in-process PartnerService ------------------------------


@pytest.fixture(scope="module")
def acme() -> ModuleType:
    spec = importlib.util.spec_from_file_location("acme_sync", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["acme_sync"] = module
    spec.loader.exec_module(module)
    return module


def test_push_stage_move_and_follow_keep_the_signatures_callers_rely_on(acme: ModuleType) -> None:
    for fn, keywords in (
        (acme.push_stage_move, {"candidate", "application", "job", "stage", "email"}),
        (acme.follow, {"position_file", "until"}),
    ):
        assert inspect.iscoroutinefunction(fn)
        params = inspect.signature(fn).parameters
        assert list(params)[:2] == ["stub", "metadata"]
        required = {n for n, p in params.items() if p.kind is p.KEYWORD_ONLY and p.default is p.empty}
        assert required == keywords


def _event(event_id: str, position: str, booking: str = "") -> pb.SubscribeEventsResponse:
    event = pb.PartnerEvent(id=event_id, type="interview.scheduled", subject=f"booking/{booking}")
    event.payload.Pack(interview_pb2.InterviewScheduled(booking_id=booking))
    return pb.SubscribeEventsResponse(event=event, position=position)


def _heartbeat(position: str) -> pb.SubscribeEventsResponse:
    return pb.SubscribeEventsResponse(heartbeat=pb.Heartbeat(), position=position)


class FakePartnerService(partner_pb2_grpc.PartnerServiceServicer):
    """Applies each request id once, like Interloop; fails on cue; plays scripted event streams."""

    def __init__(self) -> None:
        self.received: list[tuple[str, Any]] = []
        self.metadata: list[dict[str, str]] = []
        self.applied: set[str] = set()
        self.refuse: dict[str, list[grpc.StatusCode]] = {}  # method -> codes to answer before applying
        self.lose_answer: dict[str, int] = {}  # method -> how many times to apply, then answer UNAVAILABLE
        self.streams: list[tuple[list[pb.SubscribeEventsResponse], grpc.StatusCode | None]] = []
        self.positions: list[str] = []  # what each SubscribeEvents asked for
        self.target = ""

    async def _push(self, method: str, request: Any, context: grpc.aio.ServicerContext, reply: Any) -> Any:
        self.received.append((method, request))
        self.metadata.append(dict(context.invocation_metadata()))
        if self.refuse.get(method):
            await context.abort(self.refuse[method].pop(0), "refused on cue")
        new = request.request_id not in self.applied
        self.applied.add(request.request_id)
        if self.lose_answer.get(method):
            self.lose_answer[method] -= 1
            await context.abort(grpc.StatusCode.UNAVAILABLE, "applied, but the answer is lost")
        outcome = spb.INGEST_OUTCOME_ACCEPTED if new else spb.INGEST_OUTCOME_DUPLICATE
        return reply(request_id=request.request_id, outcome=outcome)

    async def GetPartnerInfo(self, request, context):  # type: ignore[no-untyped-def]  # noqa: N802
        tenant = dict(context.invocation_metadata())["x-tenant-id"]
        return pb.GetPartnerInfoResponse(api_version="v1", partner_id="acme-ats", tenant_id=tenant)

    async def UpsertCandidate(self, request, context):  # type: ignore[no-untyped-def]  # noqa: N802
        return await self._push("UpsertCandidate", request, context, pb.UpsertCandidateResponse)

    async def UpsertApplication(self, request, context):  # type: ignore[no-untyped-def]  # noqa: N802
        return await self._push("UpsertApplication", request, context, pb.UpsertApplicationResponse)

    async def MoveStage(self, request, context):  # type: ignore[no-untyped-def]  # noqa: N802
        return await self._push("MoveStage", request, context, pb.MoveStageResponse)

    async def SubscribeEvents(self, request, context):  # type: ignore[no-untyped-def]  # noqa: N802
        self.positions.append(request.position)
        if not self.streams:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "no stream scripted")
        items, end = self.streams.pop(0)
        for item in items:
            yield item
        if end is not None:
            await context.abort(end, "stream ends on cue")


Partner = tuple[FakePartnerService, partner_pb2_grpc.PartnerServiceStub]


@pytest.fixture
async def partner() -> AsyncIterator[Partner]:
    fake = FakePartnerService()
    server = grpc.aio.server()
    partner_pb2_grpc.add_PartnerServiceServicer_to_server(fake, server)
    fake.target = f"127.0.0.1:{server.add_insecure_port('127.0.0.1:0')}"
    await server.start()
    try:
        async with grpc.aio.insecure_channel(fake.target) as channel:
            yield fake, partner_pb2_grpc.PartnerServiceStub(channel)
    finally:
        await server.stop(None)


def _ids(fake: FakePartnerService, method: str) -> list[str]:
    return [r.request_id for m, r in fake.received if m == method]


async def test_push_stage_move_sends_ids_made_from_the_content_so_a_repeat_is_a_duplicate(
    acme: ModuleType, partner: Partner
) -> None:
    fake, stub = partner
    fake.lose_answer["MoveStage"] = 1  # the first move arrives, its answer does not: the retry is a duplicate
    first = await acme.push_stage_move(stub, META, **STAGE_MOVE)
    assert first == {
        "candidate": "INGEST_OUTCOME_ACCEPTED",
        "application": "INGEST_OUTCOME_ACCEPTED",
        "move": "INGEST_OUTCOME_DUPLICATE",
    }
    assert [m for m, _ in fake.received] == ["UpsertCandidate", "UpsertApplication", "MoveStage", "MoveStage"]
    move_ids = _ids(fake, "MoveStage")
    assert move_ids[0] == move_ids[1]
    assert all(
        md["authorization"] == "Bearer ilp_test" and md["x-tenant-id"] == "acme" for md in fake.metadata
    )
    candidate, application, move = (r for _, r in fake.received[:3])
    assert (candidate.candidate.candidate_id, list(candidate.candidate.emails)) == (
        "cand-1",
        ["ada@example.com"],
    )
    assert (application.application.candidate_id, application.application.job_id) == ("cand-1", "job-7")
    assert (move.move.application_id, move.move.stage_id, move.move.stage_name) == (
        "app-1",
        "Onsite Interview",
        "Onsite Interview",
    )
    assert not move.move.HasField("interview_stage")  # the tenant's policy decides

    # The same push again (a vendor's retry after a crash): the same ids, nothing applied twice.
    again = await acme.push_stage_move(stub, META, **STAGE_MOVE)
    assert set(again.values()) == {"INGEST_OUTCOME_DUPLICATE"}
    assert _ids(fake, "UpsertCandidate") == [candidate.request_id] * 2

    # A move on is new; a move back is new only with the ATS's change id.
    onward = await acme.push_stage_move(stub, META, **{**STAGE_MOVE, "stage": "Final Interview"})
    assert (onward["application"], onward["move"]) == ("INGEST_OUTCOME_DUPLICATE", "INGEST_OUTCOME_ACCEPTED")
    back = await acme.push_stage_move(stub, META, **STAGE_MOVE)
    assert back["move"] == "INGEST_OUTCOME_DUPLICATE"
    back = await acme.push_stage_move(stub, META, **STAGE_MOVE, change_id="audit-42")
    assert back["move"] == "INGEST_OUTCOME_ACCEPTED"
    assert len(set(_ids(fake, "MoveStage"))) == 3
    assert all(len(i) <= 200 for i in fake.applied)


async def test_push_stage_move_retries_what_is_worth_it_and_raises_the_rest(
    acme: ModuleType, partner: Partner
) -> None:
    fake, stub = partner
    fake.refuse["UpsertCandidate"] = [grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE]
    outcomes = await acme.push_stage_move(stub, META, **STAGE_MOVE)
    assert outcomes["candidate"] == "INGEST_OUTCOME_ACCEPTED"
    assert len(set(_ids(fake, "UpsertCandidate"))) == 1 and len(_ids(fake, "UpsertCandidate")) == 3

    fake.refuse["UpsertCandidate"] = [grpc.StatusCode.INVALID_ARGUMENT]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await acme.push_stage_move(stub, META, **{**STAGE_MOVE, "email": "other@example.com"})
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert len(_ids(fake, "UpsertCandidate")) == 4  # asked once, not retried; nothing after it
    assert len(_ids(fake, "UpsertApplication")) == 1  # only the first push got that far


async def test_follow_resumes_from_the_stored_position_dedupes_and_stops_when_told(
    acme: ModuleType, partner: Partner, tmp_path: Path
) -> None:
    fake, stub = partner
    fake.streams = [
        ([_event("e1", "p1", "b-1"), _heartbeat("p2"), _event("e2", "p3")], grpc.StatusCode.UNAVAILABLE),
        ([_event("e2", "p3"), _event("e3", "p4"), _event("e4", "p5")], None),  # e2 delivered again
    ]
    position_file = tmp_path / "acme.position"
    handled: list[str] = []
    stored_when_handled: list[str | None] = []

    async def handle(event: pb.PartnerEvent) -> None:
        handled.append(event.id)
        stored_when_handled.append(position_file.read_text() if position_file.exists() else None)

    last = await acme.follow(
        stub, META, position_file=position_file, until=lambda e: e.id == "e3", handle=handle
    )
    assert last.id == "e3"
    assert handled == ["e1", "e2", "e3"]
    assert fake.positions == ["earliest", "p3"]  # the reconnect asked for what was stored
    assert position_file.read_text() == "p4"  # stored after e3, e4 never reached
    assert stored_when_handled == [None, "p2", "p3"]  # each stored after its predecessor was handled
    assert (
        acme.payload_of(last) is not None
        and acme.payload_of(_event("x", "p", "b-9").event).booking_id == "b-9"
    )


async def test_follow_stores_nothing_for_an_event_its_handler_failed_on(
    acme: ModuleType, partner: Partner, tmp_path: Path
) -> None:
    fake, stub = partner
    fake.streams = [([_heartbeat("p1"), _event("e1", "p2")], None), ([_event("e1", "p2")], None)]
    position_file = tmp_path / "acme.position"

    def crash(event: pb.PartnerEvent) -> None:
        raise RuntimeError(f"the vendor's database is down at {event.id}")

    with pytest.raises(RuntimeError):
        await acme.follow(
            stub, META, position_file=position_file, until=lambda e: True, handle=crash, start=""
        )
    assert position_file.read_text() == "p1"  # e1 is delivered again next time
    assert (await acme.follow(stub, META, position_file=position_file, until=lambda e: True)).id == "e1"
    assert fake.positions == ["", "p1"]


async def test_follow_raises_what_a_reconnect_cannot_fix(
    acme: ModuleType, partner: Partner, tmp_path: Path
) -> None:
    fake, stub = partner
    fake.streams = [([], grpc.StatusCode.PERMISSION_DENIED)]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await acme.follow(stub, META, position_file=tmp_path / "p", until=lambda e: True)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert fake.positions == ["earliest"] and not (tmp_path / "p").exists()


async def _command(*argv: str) -> tuple[int, str, str]:
    """The example as a vendor runs it (asynchronously: the fake server answers on this test's loop)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLE), *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_the_python_example_pushes_and_follows_as_a_command(partner: Partner, tmp_path: Path) -> None:
    fake, _ = partner
    common = ("--target", fake.target, "--key", "ilp_test", "--tenant", "acme")
    push = (
        "--candidate",
        "cand-1",
        "--application",
        "app-1",
        "--job",
        "job-7",
        "--stage",
        "Onsite Interview",
    )
    code, out, err = await _command(*common, "push", *push, "--email", "ada@example.com")
    assert code == 0, err
    assert json.loads(out) == {
        "candidate": "INGEST_OUTCOME_ACCEPTED",
        "application": "INGEST_OUTCOME_ACCEPTED",
        "move": "INGEST_OUTCOME_ACCEPTED",
    }
    assert "partner acme-ats, tenant acme" in err

    fake.streams = [([_heartbeat("p1"), _event("e1", "p2", "b-1")], None)]
    position_file = tmp_path / "acme.position"
    code, out, err = await _command(
        *common, "follow", "--position-file", str(position_file), "--until-type", "interview.scheduled"
    )
    assert code == 0, err
    printed = [json.loads(line) for line in out.splitlines()]
    assert [(e["id"], e["type"], e["payload"]["bookingId"]) for e in printed] == [
        ("e1", "interview.scheduled", "b-1")
    ]
    assert position_file.read_text() == "p2" and fake.positions == ["earliest"]

    fake.streams = [([], grpc.StatusCode.PERMISSION_DENIED)]
    code, _, err = await _command(*common, "follow", "--position-file", str(position_file))
    assert code == 1 and "PERMISSION_DENIED" in err, err
    assert fake.positions[-1] == "p2"
