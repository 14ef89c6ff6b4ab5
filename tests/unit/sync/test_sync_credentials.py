"""Credentials at rest: newest-key encryption, any-key decryption, rotation, no secrets in repr."""

import pickle

import pytest
from interloop_sync.domain.credentials import CredentialError, CredentialVault


def test_rotation_and_redaction() -> None:
    old_key, new_key = CredentialVault.generate_key(), CredentialVault.generate_key()
    old_vault = CredentialVault([old_key])
    token = old_vault.encrypt("greenhouse", {"api_key": "hv-SECRET-123"})
    vault = CredentialVault([new_key, old_key])
    creds = vault.decrypt(token)
    assert creds["api_key"].reveal() == "hv-SECRET-123"
    for text in (repr(creds), str(creds), repr(creds["api_key"]), str(dict(creds)), repr(vault)):
        assert "SECRET" not in text and new_key not in text
    rotated = vault.rotate(token)
    assert CredentialVault([new_key]).decrypt(rotated) == creds
    with pytest.raises(CredentialError):
        CredentialVault([new_key]).decrypt(token)
    with pytest.raises(TypeError):
        pickle.dumps(creds["api_key"])


def test_bad_key_does_not_leak() -> None:
    with pytest.raises(ValueError) as err:
        CredentialVault(["definitely-not-a-key"])
    assert "definitely" not in str(err.value)
    with pytest.raises(ValueError):
        CredentialVault([])
