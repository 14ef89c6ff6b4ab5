"""The one key ring: sealed, opened with any configured key, rotated, never shown."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from interloop_common.keyring import PREFIX, KeyRing, KeysUnavailable, generate_key, rotate_all


def test_seal_open_rotate_across_key_rollover() -> None:
    old, new = generate_key(), generate_key()
    before = KeyRing(old, setting="X_KEYS")
    sealed = before.seal("ya29.token")
    assert sealed.startswith(PREFIX) and "ya29" not in sealed
    rolled = KeyRing(f"{new},{old}", setting="X_KEYS")
    assert rolled.open(sealed) == "ya29.token"
    resealed = rolled.rotate(sealed)
    assert KeyRing(new, setting="X_KEYS").open(resealed) == "ya29.token"
    with pytest.raises(KeysUnavailable, match="no key in X_KEYS"):
        KeyRing(old, setting="X_KEYS").open(resealed)


def test_bytes_columns_rotate_too() -> None:
    old, new = generate_key(), generate_key()
    token = KeyRing([old], setting="K").seal_bytes(b'{"api_key": "s3cret"}')
    rotated = KeyRing([new, old], setting="K").rotate_bytes(token)
    assert KeyRing([new], setting="K").open_bytes(rotated) == b'{"api_key": "s3cret"}'
    with pytest.raises(KeysUnavailable):
        KeyRing([old], setting="K").open_bytes(rotated)


def test_legacy_plaintext_passes_through_and_missing_keys_are_clear() -> None:
    ring = KeyRing("", setting="INTERLOOP_SCHEDULER_CREDENTIAL_KEYS")
    assert not ring.configured
    assert ring.open("plain-old-token") == "plain-old-token"
    with pytest.raises(KeysUnavailable, match="set INTERLOOP_SCHEDULER_CREDENTIAL_KEYS"):
        ring.seal("x")
    with pytest.raises(KeysUnavailable, match="not a Fernet key"):
        KeyRing("not-a-key", setting="K")
    # a legacy plaintext value gets sealed by rotation
    keyed = KeyRing(generate_key(), setting="K")
    assert keyed.open(keyed.rotate("plain")) == "plain" and keyed.rotate("plain").startswith(PREFIX)


def test_repr_never_shows_keys() -> None:
    key = Fernet.generate_key().decode()
    ring = KeyRing(key, setting="K")
    assert key not in repr(ring) and "set" in repr(ring)


class _Rows:
    """Sealed values in memory, shaped like a store's (label -> value)."""

    def __init__(self, rows: dict[str, object]) -> None:
        self.rows = rows

    async def sealed(self, conn: object) -> list[tuple[str, object]]:
        return list(self.rows.items())

    async def reseal(self, conn: object, label: str, value: object) -> None:
        self.rows[label] = value


class _Pool:
    """Just enough of an asyncpg pool for system_tx: a connection whose transaction does nothing."""

    class _Conn:
        async def execute(self, *a: object) -> None:
            return None

        def transaction(self):  # type: ignore[no-untyped-def]
            import contextlib

            @contextlib.asynccontextmanager
            async def tx():  # type: ignore[no-untyped-def]
                yield

            return tx()

    async def acquire(self, *, timeout: float | None = None) -> _Pool._Conn:
        return self._Conn()

    async def release(self, conn: object) -> None:
        return None


async def test_rotate_all_reseals_what_opens_and_reports_what_does_not() -> None:
    old, new, stranger = generate_key(), generate_key(), generate_key()
    rows = _Rows(
        {
            "text": KeyRing(old, setting="K").seal("t"),
            "bytes": KeyRing(old, setting="K").seal_bytes(b"b"),
            "lost": KeyRing(stranger, setting="K").seal("x"),
        }
    )
    report = await rotate_all(_Pool(), KeyRing([new, old], setting="K"), rows)
    assert report.rotated == 2 and report.failed == ["lost"]
    only_new = KeyRing([new], setting="K")
    assert only_new.open(rows.rows["text"]) == "t"  # type: ignore[arg-type]
    assert only_new.open_bytes(rows.rows["bytes"]) == b"b"  # type: ignore[arg-type]
