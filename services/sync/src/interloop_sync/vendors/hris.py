"""What every HRIS adapter offers the offer-accepted flow (canonical field names from domain.mapping): the
vendor's capabilities, and a client for one connection that writes the hire and reads it back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from .adapter import VendorAdapter

if TYPE_CHECKING:
    import httpx

    from ..domain.credentials import Credentials
    from ..store.connections import Connection


@dataclass(frozen=True, slots=True)
class HireWrite:
    remote_id: str
    created: bool  # False: the record already existed under this idempotency key (nothing written)


@runtime_checkable
class HrisClient(Protocol):
    """One connection's API client."""

    async def create_hire(self, fields: Mapping[str, Any], *, idempotency_key: str) -> HireWrite: ...

    async def read_back(self, remote_id: str) -> dict[str, Any]:
        """The record as the HRIS stores it, in canonical field names (for ``compare_read_back``)."""
        ...

    async def update(self, remote_id: str, fields: Mapping[str, Any]) -> None:
        """Change only these fields (canonical names) of an existing record."""
        ...


@runtime_checkable
class HrisAdapter(VendorAdapter, Protocol):
    @property
    def kind(self) -> Literal["hris"]: ...

    @property
    def idempotent_creates(self) -> bool:
        """A create repeated with the same idempotency key finds the first record. Without it an interrupted
        create may or may not have landed, and a human checks before it is replayed."""

    def client(self, http: httpx.AsyncClient, c: Connection, creds: Credentials) -> HrisClient: ...
