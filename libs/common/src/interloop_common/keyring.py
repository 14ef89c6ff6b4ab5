"""The one key ring for every sealed column in every service (calendar tokens, vendor credentials).

Keys come from a setting as comma-separated Fernet keys, newest first: sealing uses the newest, opening
accepts any, ``rotate`` re-seals under the newest. Roll a new key out first, run the service's
``rotate-credentials`` command, then drop the old keys once it reports nothing failed.
Key material never appears in a repr or an error message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

PREFIX = "fernet:"  # marks a sealed text column, so rows stored before sealing existed still read


class KeysUnavailable(RuntimeError):
    """No keys are configured, or a sealed value cannot be opened with any configured key."""


def generate_key() -> str:
    return Fernet.generate_key().decode()


class KeyRing:
    def __init__(self, keys: SecretStr | str | Sequence[str | bytes], *, setting: str) -> None:
        if isinstance(keys, SecretStr):
            keys = keys.get_secret_value()
        if isinstance(keys, str):
            keys = [k.strip() for k in keys.split(",") if k.strip()]
        self.setting = setting
        try:
            fernets = [Fernet(k) for k in keys]
        except (ValueError, TypeError):
            raise KeysUnavailable(
                f"{setting} holds something that is not a Fernet key (32 url-safe base64 bytes)"
            ) from None
        self._fernet = MultiFernet(fernets) if fernets else None

    def __repr__(self) -> str:
        return f"KeyRing({self.setting}, keys={'set' if self._fernet else 'missing'})"

    @property
    def configured(self) -> bool:
        return self._fernet is not None

    def _ring(self) -> MultiFernet:
        if self._fernet is None:
            raise KeysUnavailable(
                f"set {self.setting} (comma-separated Fernet keys, newest first; generate one with "
                "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
            )
        return self._fernet

    # bytes columns (bytea)
    def seal_bytes(self, plaintext: bytes) -> bytes:
        return self._ring().encrypt(plaintext)

    def open_bytes(self, token: bytes) -> bytes:
        try:
            return self._ring().decrypt(token)
        except InvalidToken:
            raise KeysUnavailable(f"no key in {self.setting} opens a stored credential") from None

    def rotate_bytes(self, token: bytes) -> bytes:
        try:
            return self._ring().rotate(token)
        except InvalidToken:
            raise KeysUnavailable(f"no key in {self.setting} opens a stored credential") from None

    # text columns, marked with PREFIX
    def seal(self, plaintext: str) -> str:
        return PREFIX + self.seal_bytes(plaintext.encode()).decode()

    def open(self, value: str) -> str:
        """The plaintext of a sealed value; values stored before sealing existed pass through."""
        if not value.startswith(PREFIX):
            return value
        return self.open_bytes(value[len(PREFIX) :].encode()).decode()

    def rotate(self, value: str) -> str:
        """Re-seal under the newest key (plaintext legacy values get sealed)."""
        if not value.startswith(PREFIX):
            return self.seal(value)
        return PREFIX + self.rotate_bytes(value[len(PREFIX) :].encode()).decode()


class SealedColumns(Protocol):
    """Where a service keeps sealed values: its store lists them and writes a re-sealed one back."""

    async def sealed(self, conn: Any) -> list[tuple[str, Any]]:
        """(label, sealed value) for every sealed value, across tenants; the label names the row."""
        ...

    async def reseal(self, conn: Any, label: str, value: Any) -> None: ...


@dataclass
class Rotation:
    rotated: int = 0
    failed: list[str] = field(default_factory=list)


async def rotate_all(pool: Any, ring: KeyRing, columns: SealedColumns) -> Rotation:
    """Re-seal every sealed value under the newest key, in one transaction; a value no key opens is
    reported by label and left as it is."""
    from interloop_common.db import system_tx

    ring._ring()  # no keys configured: say so before touching anything
    out = Rotation()
    async with system_tx(pool) as conn:
        for label, value in await columns.sealed(conn):
            try:
                fresh = ring.rotate_bytes(value) if isinstance(value, bytes) else ring.rotate(value)
            except KeysUnavailable:
                out.failed.append(label)
                continue
            await columns.reseal(conn, label, fresh)
            out.rotated += 1
    return out
