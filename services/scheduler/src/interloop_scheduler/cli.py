"""Offline subcommands of the `interloop` CLI contributed by this service."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach this service's subcommands to the top-level `interloop` app."""
