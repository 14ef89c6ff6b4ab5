"""The `interloop` console command for operators, coordinators and analysts.

Each service contributes its own subcommands through a `register(app)` function in its `cli` module,
so the commands live next to the domain code they drive.
"""

from __future__ import annotations

import typer
from interloop_scheduler import cli as scheduler_cli
from interloop_scorecard import cli as scorecard_cli

from interloop_cli import audit, dev, partners, tenants

app = typer.Typer(
    name="interloop",
    help="Interloop: interview scheduling, structured scorecards and ATS/HRIS sync.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.add_typer(dev.app, name="dev")
app.add_typer(tenants.app, name="tenants")
app.add_typer(audit.app, name="audit")
app.add_typer(partners.app, name="partners")
scheduler_cli.register(app)
scorecard_cli.register(app)


def main() -> None:  # pragma: no cover - console entry point
    app()
