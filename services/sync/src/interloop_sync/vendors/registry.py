"""The one list of the vendors the sync service speaks to: provider name -> its adapter. Adding a vendor is
adding its adapter module and one line in ``ADAPTERS``; the rest of the service asks the adapter what the
vendor can do (``kind``, ``renews_tokens``, ``interview_status_writeback`` …) and never names a vendor.

``PARTNER`` is the provider of the connections ATS vendors push changes through (the partner API,
``usecases/partner.py``): it has no adapter, so no webhook is verified for it, nothing polls it, writes back
to it or renews its tokens, and it is never created by hand."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ..domain import partner
from ..store.connections import Connection
from . import bamboohr, greenhouse, lever, workday
from .ats import AtsAdapter
from .hris import HrisAdapter

Adapter = AtsAdapter | HrisAdapter
PARTNER = partner.PROVIDER

ADAPTERS: Mapping[str, Adapter] = MappingProxyType(
    {
        a.provider: a
        for a in (
            greenhouse.ADAPTER,
            lever.ADAPTER,
            workday.ADAPTER,
            bamboohr.ADAPTER,
        )
    }
)


def providers(kind: str | None = None) -> tuple[str, ...]:
    """Every registered provider (of one ``kind``: ``ats``, ``hris``), in registration order."""
    return tuple(name for name, a in ADAPTERS.items() if kind is None or a.kind == kind)


def adapter(provider: str) -> Adapter | None:
    return ADAPTERS.get(provider)


def kind(provider: str) -> str | None:
    """``ats`` or ``hris``, ``partner`` for ``PARTNER``; None for a provider nobody registered."""
    if provider == PARTNER:
        return PARTNER
    found = ADAPTERS.get(provider)
    return found.kind if found is not None else None


def ats(provider: str) -> AtsAdapter:
    found = ADAPTERS.get(provider)
    if found is None or found.kind != "ats":
        raise ValueError(f"{provider} is not an ATS provider")
    return found


def ats_api(provider: str) -> AtsAdapter | None:
    """The ATS adapter of ``provider``, None when no vendor API is behind it (``PARTNER``, an HRIS, nobody
    registered): nothing is written back there and no token renewed."""
    return ats(provider) if kind(provider) == "ats" else None


def hris(provider: str) -> HrisAdapter:
    found = ADAPTERS.get(provider)
    if found is None or found.kind != "hris":
        raise ValueError(f"{provider} is not an HRIS provider")
    return found


def webhook_adapter(provider: str, c: Connection | None) -> AtsAdapter | None:
    """The adapter that verifies a webhook posted to ``provider``'s URL for connection ``c``: None unless
    ``c`` is an ATS connection of that very provider (a URL naming another vendor finds nothing)."""
    if c is None or c.provider != provider or kind(provider) != "ats":
        return None
    return ats(provider)
