"""Credentials at rest: sealed, opened with any configured key, rotated, never shown."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from interloop_common.credentials import PREFIX, CredentialsUnavailable, SecretBox


def test_seal_open_rotate_across_key_rollover() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = SecretBox(old, setting="X_KEYS")
    sealed = before.seal("ya29.token")
    assert sealed.startswith(PREFIX) and "ya29" not in sealed
    rolled = SecretBox(f"{new},{old}", setting="X_KEYS")
    assert rolled.open(sealed) == "ya29.token"
    resealed = rolled.rotate(sealed)
    assert SecretBox(new, setting="X_KEYS").open(resealed) == "ya29.token"
    with pytest.raises(CredentialsUnavailable, match="no key in X_KEYS"):
        SecretBox(Fernet.generate_key().decode(), setting="X_KEYS").open(sealed)


def test_legacy_plaintext_passes_through_and_missing_keys_are_clear() -> None:
    box = SecretBox("", setting="INTERLOOP_SCHEDULER_CREDENTIAL_KEYS")
    assert box.open("plain-old-token") == "plain-old-token"
    with pytest.raises(CredentialsUnavailable, match="set INTERLOOP_SCHEDULER_CREDENTIAL_KEYS"):
        box.seal("x")
    with pytest.raises(CredentialsUnavailable, match="not a Fernet key"):
        SecretBox("not-a-key", setting="K")


def test_repr_never_shows_keys() -> None:
    key = Fernet.generate_key().decode()
    assert key not in repr(SecretBox(key, setting="K")) and "set" in repr(SecretBox(key, setting="K"))
