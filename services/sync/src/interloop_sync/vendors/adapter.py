"""What every vendor adapter declares, whatever its kind: its name, what a connection to it needs and
the hosts it may call (the registry lists them; creating a connection checks them)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class VendorAdapter(Protocol):
    @property
    def kind(self) -> str:
        """What the vendor is to the sync service: ``ats`` or ``hris``."""

    @property
    def provider(self) -> str:
        """The name connections, webhook URLs and events carry."""

    @property
    def display_name(self) -> str: ...

    @property
    def required_credentials(self) -> tuple[str, ...]:
        """Credential fields a connection cannot be created without."""

    @property
    def required_settings(self) -> tuple[str, ...]: ...

    @property
    def base_url_required(self) -> str | None:
        """What the base URL must be, when the vendor has no default host."""

    @property
    def hosts(self) -> tuple[str, ...]:
        """The vendor's API and token hosts (a name covers its subdomains): the outbound guard pins a
        connection's base_url and token_url to them."""
