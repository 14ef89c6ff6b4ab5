"""`interloop dev ...`: the local dev stack behind `make run`."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import typer
from interloop_devstack.procs import StackError

app = typer.Typer(
    help="Run the local dev stack (PostgreSQL, Kafka, the four services).", no_args_is_help=True
)


@app.command("up")
def up(
    root: Path = typer.Option(Path(".devstack"), help="where data and logs live (git-ignored)"),
    seed_demo: bool = typer.Option(False, "--seed-demo", help="create the demo tenant and its data"),
) -> None:
    """Start everything, print the URLs, and stop everything on Ctrl-C."""
    from interloop_devstack.stack import DevStack

    from interloop_cli import demo

    stack = DevStack(root.resolve())
    seeded = None
    logging.getLogger("httpx").setLevel(logging.WARNING)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    # Ctrl-C stops everything even when started from a shell that ignores SIGINT (a background job
    # inherits SIG_IGN, and Python then never raises KeyboardInterrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        typer.echo("starting PostgreSQL and Kafka ...")
        stack.start_infra()
        typer.echo("starting scheduler, scorecard, sync, gateway ...")
        stack.start_services()
        p = stack.ports
        base = f"http://127.0.0.1:{p.http}"
        lines = [
            f"gateway REST     {base}  (OpenAPI: {base}/openapi, docs: {base}/openapi/swagger)",
            f"readiness        {base}/readyz",
            f"partner gRPC     127.0.0.1:{p.grpc['gateway']}",
            *[
                f"{s:<16} grpc 127.0.0.1:{p.grpc[s]}  metrics http://127.0.0.1:{p.metrics[s]}/metrics"
                for s in ("scheduler", "scorecard", "sync")
            ],
            f"PostgreSQL       {stack.postgres.admin_dsn if stack.postgres else ''}",
            f"Kafka            {stack.kafka.bootstrap if stack.kafka else ''}",
            f"logs             {root / 'logs'}",
            f"mailbox          SMTP 127.0.0.1:{p.smtp}, delivered mail in {root / 'mail'} (Maildir): "
            "interview invites (ICS), scheduling links, reminders, alerts",
        ]
        if seed_demo:
            typer.echo("seeding the demo tenant ...")
            seeded = demo.seed(base, stack.postgres.dsn("gateway"))  # type: ignore[union-attr]
            info = seeded.info
            lines += [
                f"demo tenant      '{demo.DEMO_TENANT}', API key: {info['api_key']}"
                f"  (compliance key: {info['compliance_key']})",
                f"dashboard        {base}/dashboard#key={info['api_key']}",
                f"candidate page   {info['scheduling_link']}",
                f"fake Greenhouse  webhooks to {info['webhook_url']} (signed); hires reach a fake Workday "
                f"({info['workday_workers']} so far)",
                f"try              curl -H 'Authorization: Bearer {info['api_key']}' "
                f"'{base}/v1/scorecard-statistics/calibration?job_id={demo.JOB}&round={demo.ROUND}&dimension=coding'",
                f"bias audit       {base}/v1/compliance/bias-audit/report.html?scope=tenant"
                f"&from={date.today() - timedelta(days=365)}&to={date.today()} (with the compliance key)",
                f"privacy          {info['privacy_export']} (an access request; with the compliance key)",
                f"partner API      grpcurl -plaintext -H 'authorization: Bearer {info['partner_key']}' "
                f"-H 'x-tenant-id: {demo.DEMO_TENANT}' 127.0.0.1:{p.grpc['gateway']} "
                "interloop.partner.v1.PartnerService/GetPartnerInfo",
            ]
        typer.echo("\n".join(["", "Interloop is up:", *lines, "", "Ctrl-C stops everything."]))
        try:
            while not stopping.wait(0.5):
                for svc in stack.services.values():
                    if svc.proc is not None and svc.proc.poll() is not None:
                        raise StackError(
                            f"{svc.name} exited with status {svc.proc.returncode}; see {svc.log}"
                        )
        except KeyboardInterrupt:
            pass
    except StackError as exc:
        typer.echo(f"interloop dev up: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass
    finally:
        typer.echo("stopping ...", err=True)
        if seeded is not None:
            seeded.stop()
        stack.stop()
        typer.echo("stopped.", err=True)
    sys.exit(0)
