"""Vendor credentials at rest: a connection's fields packed as JSON and sealed with the key ring.

Keys come from settings, newest first (``interloop_common.keyring``). Decrypted secrets are wrapped so they
never appear in a repr, str, log line or traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from interloop_common.errors import Conflict
from interloop_common.keyring import KeyRing, KeysUnavailable, generate_key

SETTING = "INTERLOOP_SYNC_CREDENTIAL_KEYS"


class CredentialError(Conflict):
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
    """Packs a connection's credential fields as JSON and seals them with the service's key ring
    (``interloop_common.keyring``: newest key seals, any opens, ``rotate`` re-seals under the newest)."""

    def __init__(self, keys: KeyRing | Sequence[str | bytes]) -> None:
        if isinstance(keys, KeyRing):
            self._ring = keys
        else:
            if not keys:
                raise ValueError("at least one encryption key is required (newest first)")
            try:
                self._ring = KeyRing(list(keys), setting=SETTING)
            except KeysUnavailable:
                # Never echo the key material in the error.
                raise ValueError(
                    "an encryption key is not a valid Fernet key (32 url-safe base64 bytes)"
                ) from None

    def __repr__(self) -> str:
        return "CredentialVault(<keys redacted>)"

    @property
    def configured(self) -> bool:
        return self._ring.configured

    @staticmethod
    def generate_key() -> str:
        return generate_key()

    def encrypt(self, provider: str, fields: Mapping[str, str | Secret]) -> bytes:
        plain = {k: v.reveal() if isinstance(v, Secret) else v for k, v in fields.items()}
        if not all(isinstance(v, str) for v in plain.values()):
            raise TypeError("credential values must be strings")
        return self._ring.seal_bytes(json.dumps({"provider": provider, "fields": plain}).encode())

    def decrypt(self, token: bytes) -> Credentials:
        try:
            data = json.loads(self._ring.open_bytes(token))
        except KeysUnavailable:
            raise CredentialError("credential token does not decrypt with any configured key") from None
        return Credentials(data["provider"], {k: Secret(v) for k, v in data["fields"].items()})

    def rotate(self, token: bytes) -> bytes:
        """Re-seal under the newest key (keeps the original timestamp semantics of MultiFernet)."""
        try:
            return self._ring.rotate_bytes(token)
        except KeysUnavailable:
            raise CredentialError("credential token does not decrypt with any configured key") from None
