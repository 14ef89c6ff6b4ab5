"""What every HRIS adapter offers the offer-accepted flow (canonical field names from domain.mapping)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class HireWrite:
    remote_id: str
    created: bool  # False: the record already existed under this idempotency key (nothing written)


class HrisAdapter(Protocol):
    async def create_hire(self, fields: Mapping[str, Any], *, idempotency_key: str) -> HireWrite: ...

    async def read_back(self, remote_id: str) -> dict[str, Any]:
        """The record as the HRIS stores it, in canonical field names (for ``compare_read_back``)."""
        ...

    async def update(self, remote_id: str, fields: Mapping[str, Any]) -> None:
        """Change only these fields (canonical names) of an existing record."""
        ...
