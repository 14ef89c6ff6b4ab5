"""Every `interloop` subcommand answers --help, and bad input is one line with exit status 2."""

from __future__ import annotations

import pytest
import typer
from interloop_cli.main import app
from typer.testing import CliRunner

runner = CliRunner()


def _paths(group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:  # type: ignore[no-untyped-def]
    out = []
    for name, cmd in group.commands.items():
        out.append((*prefix, name))
        if hasattr(cmd, "commands"):
            out.extend(_paths(cmd, (*prefix, name)))
    return out


COMMANDS = _paths(typer.main.get_command(app))  # type: ignore[arg-type]


def test_the_cli_has_the_operator_and_analyst_commands() -> None:
    assert {("slots",), ("irr",), ("dev",), ("dev", "up"), ("tenants",), ("tenants", "create")} <= set(
        COMMANDS
    )


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_help_on_every_subcommand(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_tenants_create_rejects_a_bad_id_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERLOOP_GATEWAY_DATABASE_URL", "postgresql://unused")
    result = runner.invoke(app, ["tenants", "create", "Bad Id!", "--name", "x"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "must be 2-63 characters" in result.output
