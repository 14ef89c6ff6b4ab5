"""Secrets stored at rest (calendar tokens, vendor passwords): sealed with Fernet under rotatable keys.

Keys come from a setting as comma-separated Fernet keys, newest first: sealing uses the newest, opening
accepts any, so a new key is rolled out first and old ones removed once nothing needs them."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

PREFIX = "fernet:"


class CredentialsUnavailable(RuntimeError):
    """No keys are configured, or a sealed value cannot be opened with any configured key."""


class SecretBox:
    def __init__(self, keys: SecretStr | str, *, setting: str) -> None:
        raw = keys.get_secret_value() if isinstance(keys, SecretStr) else keys
        self._setting = setting
        try:
            fernets = [Fernet(k.strip().encode()) for k in raw.split(",") if k.strip()]
        except (ValueError, TypeError):
            raise CredentialsUnavailable(f"{setting} holds something that is not a Fernet key") from None
        self._fernet = MultiFernet(fernets) if fernets else None

    def __repr__(self) -> str:
        return f"SecretBox({self._setting}, keys={'set' if self._fernet else 'missing'})"

    def seal(self, plaintext: str) -> str:
        if self._fernet is None:
            raise CredentialsUnavailable(
                f"set {self._setting} (comma-separated Fernet keys, newest first) to store credentials"
            )
        return PREFIX + self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, value: str) -> str:
        """The plaintext of a sealed value; values stored before sealing existed pass through."""
        if not value.startswith(PREFIX):
            return value
        if self._fernet is None:
            raise CredentialsUnavailable(f"{self._setting} is empty: stored credentials cannot be opened")
        try:
            return self._fernet.decrypt(value[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise CredentialsUnavailable(f"no key in {self._setting} opens a stored credential") from None

    def rotate(self, value: str) -> str:
        """Re-seal under the newest key (plaintext legacy values get sealed)."""
        return self.seal(self.open(value))
