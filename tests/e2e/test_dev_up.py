"""`make run`'s front door: `interloop dev up --seed-demo` brings the whole stack up with /readyz = 200,
serves the demo tenant, and Ctrl-C stops everything with no process left behind."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
import httpx
import psutil
import pytest
from interloop.partner.v1 import partner_pb2, partner_pb2_grpc
from interloop_devstack.procs import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _ports_env() -> dict[str, str]:
    env = {
        "INTERLOOP_DEV_POSTGRES_PORT": str(free_port()),
        "INTERLOOP_DEV_KAFKA_PORT": str(free_port()),
        "INTERLOOP_DEV_KAFKA_CONTROLLER_PORT": str(free_port()),
        "INTERLOOP_DEV_HTTP_PORT": str(free_port()),
        "INTERLOOP_DEV_SMTP_PORT": str(free_port()),
    }
    for svc in ("scheduler", "scorecard", "sync", "gateway"):
        env[f"INTERLOOP_DEV_{svc.upper()}_GRPC_PORT"] = str(free_port())
        env[f"INTERLOOP_DEV_{svc.upper()}_METRICS_PORT"] = str(free_port())
    return env


def _cli() -> list[str]:
    return [sys.executable, "-c", "from interloop_cli.main import app; app()"]


def _descendants_alive(root: Path) -> list[str]:
    alive = []
    for p in psutil.process_iter(["cmdline", "environ"]):
        try:
            cmd = " ".join(p.info["cmdline"] or [])
        except psutil.Error:
            continue
        if str(root) in cmd:
            alive.append(cmd[:120])
    return alive


def _start(tmp: Path) -> tuple[subprocess.Popen[str], dict[str, str], list[str], Path]:
    """`interloop dev up --seed-demo` on free ports, read until it is up (or gone). The ports are free
    when chosen; another process on the machine may take one before the stack binds it, which dev up
    reports as "port N for X is busy" and exits: then it starts again on other ports."""
    for attempt in range(3):
        ports = _ports_env()
        root = tmp / f"stack-{attempt}"
        proc = subprocess.Popen(
            [*_cli(), "dev", "up", "--seed-demo", "--root", str(root)],
            env={**os.environ, **ports},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: list[str] = []
        deadline = time.monotonic() + 240
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C stops everything" in line:
                break
        if any(" is busy: " in ln for ln in lines) and proc.wait(timeout=60) != 0:
            continue  # a port was taken between choosing and binding it: other ports
        return proc, ports, lines, root
    return proc, ports, lines, root


def test_dev_up_serves_demo_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    proc, ports, lines, root = _start(tmp_path)
    try:
        out = "".join(lines)
        assert "Interloop is up" in out, out
        base = f"http://127.0.0.1:{ports['INTERLOOP_DEV_HTTP_PORT']}"
        assert httpx.get(f"{base}/readyz").status_code == 200
        key = next(ln.split("API key: ")[1].split()[0] for ln in lines if "API key:" in ln)
        h = {"Authorization": f"Bearer {key}"}
        demo = httpx.get(f"{base}/v1/interviews", headers=h)
        assert demo.status_code == 200 and demo.json()["items"], demo.text
        # The demo tenant shows each capability: calendars, an open link, statistics, a connected ATS.
        link = next(ln.split()[-1] for ln in lines if ln.startswith("candidate page"))
        assert httpx.get(link).status_code == 200
        token = link.rsplit("/", 1)[1]
        assert httpx.get(f"{base}/v1/scheduling-links/{token}/slots", params={"tz": "Asia/Tokyo"}).json()[
            "slots"
        ]
        calib = httpx.get(
            f"{base}/v1/scorecard-statistics/calibration",
            headers=h,
            params={"job_id": "3485", "round": "onsite", "dimension": "coding"},
        ).json()
        assert {r["interviewer_id"] for r in calib["raters"]} == {"ada", "grace", "alan"}
        connections = httpx.get(f"{base}/v1/connections", headers=h).json()["items"]
        assert {c["provider"] for c in connections} == {"greenhouse", "workday"}
        assert "hires reach a fake Workday (1 so far)" in out, out  # one hire, written once
        # An ATS vendor on the partner API, granted by the demo tenant: the printed command's key works.
        partner_line = next(ln for ln in lines if ln.startswith("partner API"))
        partner_key = partner_line.split("Bearer ")[1].split("'")[0]
        grants = httpx.get(f"{base}/v1/partner-grants", headers=h).json()["items"]
        assert [g["partner_id"] for g in grants] == ["demo-ats"]
        with grpc.insecure_channel(f"127.0.0.1:{ports['INTERLOOP_DEV_GATEWAY_GRPC_PORT']}") as ch:
            info = partner_pb2_grpc.PartnerServiceStub(ch).GetPartnerInfo(
                partner_pb2.GetPartnerInfoRequest(),
                metadata=[("authorization", f"Bearer {partner_key}"), ("x-tenant-id", "demo")],
                timeout=10,
            )
        assert info.partner_id == "demo-ats" and "subscribe" in info.scopes
        audit_page = next(ln.split()[2] for ln in lines if ln.startswith("bias audit"))
        compliance = next(
            ln.split("compliance key: ")[1].split(")")[0] for ln in lines if "compliance key" in ln
        )
        page = httpx.get(audit_page, headers={"Authorization": f"Bearer {compliance}"})
        assert page.status_code == 200 and "Bias audit" in page.text, page.text[:300]
        # The printed access request: Greenhouse's example candidate, held by sync from the signed webhook.
        export_page = next(ln.split()[1] for ln in lines if ln.startswith("privacy"))
        summary = httpx.get(export_page, headers={"Authorization": f"Bearer {compliance}"})
        assert summary.status_code == 200 and "Data held about candidate 265772" in summary.text
        holds = httpx.get(f"{base}/v1/privacy/legal-holds", headers={"Authorization": f"Bearer {compliance}"})
        assert [h["scope"] for h in holds.json()["items"]] == ["job"]
        # The booked candidate's invite (ICS attached) was delivered to the local mailbox.

        def invite_to_sam() -> list[str]:
            mails = [f.read_text(errors="replace") for f in (root / "mail").rglob("*") if f.is_file()]
            return [m for m in mails if "To: sam@example.com" in m and "text/calendar" in m]

        end = time.monotonic() + 30
        while not invite_to_sam() and time.monotonic() < end:
            time.sleep(0.5)
        assert invite_to_sam(), "the demo candidate's interview invite never reached the mailbox"
        assert _descendants_alive(root), "the stack's processes should be running now"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            # Leave nothing behind for the rest of the run, then say what the stack printed while stopping
            for p in psutil.process_iter(["cmdline"]):
                with contextlib.suppress(psutil.Error):
                    if str(root) in " ".join(p.info["cmdline"] or []):
                        p.kill()
            proc.kill()
            rest, _ = proc.communicate()
            raise AssertionError(
                f"Ctrl-C did not stop the stack within 90 s; it printed:\n{rest[-4000:]}"
            ) from None
    assert proc.returncode == 0, rest
    assert "stopped." in rest
    time.sleep(0.5)
    assert _descendants_alive(root) == []
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", int(ports["INTERLOOP_DEV_HTTP_PORT"]))) != 0


def test_busy_port_is_one_clear_line(tmp_path: Path) -> None:
    ports = _ports_env()
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", int(ports["INTERLOOP_DEV_KAFKA_PORT"])))
        blocker.listen()
        out = subprocess.run(
            [*_cli(), "dev", "up", "--root", str(tmp_path / "s")],
            env={**os.environ, **ports},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert out.returncode == 1
    errors = [ln for ln in out.stderr.splitlines() if ln.startswith("interloop dev up:")]
    assert len(errors) == 1 and "INTERLOOP_DEV_KAFKA_PORT" in errors[0] and "busy" in errors[0]
