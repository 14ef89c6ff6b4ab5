"""REST controllers of the scheduling resource (registered by app.py through CONTROLLERS)."""

from __future__ import annotations

CONTROLLERS: list[type] = []
