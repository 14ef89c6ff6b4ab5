"""Vendor credentials encrypted at rest with rotatable keys (Fernet / MultiFernet).

Keys come from settings, newest first: encryption always uses the newest, decryption accepts any, and
``rotate`` re-encrypts a stored token under the newest key. Decrypted secrets are wrapped so they never
appear in a repr, str, log line or traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class CredentialError(Exception):
    """A stored credential cannot be decrypted with any configured key (or is not ours)."""


class Secret:
    """A string that refuses to show itself; call ``reveal()`` at the one place it is sent."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> tuple:  # no pickling secrets into caches by accident
        raise TypeError("Secret values cannot be pickled")


@dataclass(frozen=True, slots=True)
class Credentials(Mapping[str, Secret]):
    """A connection's credential fields (api_key, client_secret, webhook secret …), all secret."""

    provider: str
    fields: Mapping[str, Secret]

    def __getitem__(self, key: str) -> Secret:
        return self.fields[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def __repr__(self) -> str:
        return f"Credentials(provider={self.provider!r}, fields={sorted(self.fields)!r})"

    __str__ = __repr__


class CredentialVault:
    """Encrypts/decrypts credentials; ``keys`` are urlsafe-base64 Fernet keys, newest first."""

    def __init__(self, keys: Sequence[str | bytes]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required (newest first)")
        try:
            self._fernet = MultiFernet([Fernet(k) for k in keys])
        except (ValueError, TypeError):
            # Never echo the key material in the error.
            raise ValueError(
                "an encryption key is not a valid Fernet key (32 url-safe base64 bytes)"
            ) from None

    def __repr__(self) -> str:
        return "CredentialVault(<keys redacted>)"

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, provider: str, fields: Mapping[str, str | Secret]) -> bytes:
        plain = {k: v.reveal() if isinstance(v, Secret) else v for k, v in fields.items()}
        if not all(isinstance(v, str) for v in plain.values()):
            raise TypeError("credential values must be strings")
        return self._fernet.encrypt(json.dumps({"provider": provider, "fields": plain}).encode())

    def decrypt(self, token: bytes) -> Credentials:
        try:
            data = json.loads(self._fernet.decrypt(token))
        except InvalidToken:
            raise CredentialError("credential token does not decrypt with any configured key") from None
        return Credentials(data["provider"], {k: Secret(v) for k, v in data["fields"].items()})

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt under the newest key (keeps the original timestamp semantics of MultiFernet)."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken:
            raise CredentialError("credential token does not decrypt with any configured key") from None
