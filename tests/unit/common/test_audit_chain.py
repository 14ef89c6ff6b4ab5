"""The audit hash chain without a database: an honest chain verifies, and every kind of tampering (a field
edited, an entry deleted, entries reordered, an entry moved to another tenant) is named at the entry
where it happened."""

from __future__ import annotations

import hashlib
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from interloop_common.audit import (
    GENESIS,
    AuditEntry,
    Check,
    Door,
    chain,
    digest,
    verify_entries,
)

T0 = datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _chain(tenant: str, n: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for i in range(n):
        fresh = AuditEntry(
            tenant_id=tenant,
            at=T0 + timedelta(seconds=i),
            actor=f"il_ab{i}",
            action="candidate.advance",
            target=f"candidate/{100 + i}",
            door=Door.REST if i % 2 else "webhook",
            remote=f"10.0.0.{i}",
            status=200 + i,
            request_id=f"req-{tenant}-{i}",
        )
        entries.append(chain(entries[-1] if entries else None, fresh))
    return entries


def test_an_honest_chain_verifies_across_tenants() -> None:
    entries = _chain("acme", 4) + _chain("globex", 3)
    result = verify_entries(entries)
    assert result.intact and result.broken is None
    assert (result.entries, result.tenants) == (7, 2)
    assert [e.id for e in entries] == [1, 2, 3, 4, 1, 2, 3]
    assert entries[0].prev_hash == GENESIS and entries[4].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(entries[:3], entries[1:4], strict=True))


def test_the_hash_is_sha256_over_length_prefixed_fields() -> None:
    """The encoding is the stored chains' contract: rebuilt here by hand, byte for byte."""
    e = _chain("acme", 2)[1]
    parts = [
        b"interloop-audit-v1",
        e.prev_hash,
        b"acme",
        b"2",
        b"2025-03-01T09:30:16.123456+00:00",
        b"il_ab1",
        b"candidate.advance",
        b"candidate/101",
        b"rest",
        b"10.0.0.1",
        b"201",
        b"req-acme-1",
    ]
    expected = hashlib.sha256(b"".join(len(p).to_bytes(8, "big") + p for p in parts)).digest()
    assert e.hash == digest(e) == expected


def test_field_boundaries_and_zones() -> None:
    e = _chain("acme", 1)[0]
    # "ab" + "c" and "a" + "bc" are different entries: each field carries its length
    assert digest(replace(e, actor="ab", action="c")) != digest(replace(e, actor="a", action="bc"))
    # one instant written in another zone is the same entry
    elsewhere = e.at.astimezone(timezone(timedelta(hours=-5)))
    assert digest(replace(e, at=elsewhere)) == e.hash


HASHED = [f.name for f in fields(AuditEntry) if f.name not in ("tenant_id", "id", "prev_hash")]


def _changed(value: object) -> object:
    if isinstance(value, datetime):
        return value + timedelta(microseconds=1)
    if isinstance(value, int):
        return value + 1
    if isinstance(value, bytes):
        return bytes([value[0] ^ 1]) + value[1:]
    return f"{value}x"


@pytest.mark.parametrize("name", HASHED)
def test_an_edited_field_is_a_hash_mismatch_at_that_entry(name: str) -> None:
    entries = _chain("acme", 5)
    entries[2] = replace(entries[2], **{name: _changed(getattr(entries[2], name))})
    result = verify_entries(entries)
    assert result.broken is not None, name
    assert (result.broken.tenant_id, result.broken.id, result.broken.check) == ("acme", 3, Check.HASH)
    assert result.entries == 2


def test_an_edited_entry_with_its_hash_recomputed_breaks_the_next_link() -> None:
    entries = _chain("acme", 5)
    forged = replace(entries[2], status=403)
    entries[2] = replace(forged, hash=digest(forged))
    broken = verify_entries(entries).broken
    assert broken is not None and (broken.id, broken.check) == (4, Check.PREV_LINK)


def test_a_deleted_entry_is_a_gap() -> None:
    entries = _chain("acme", 5)
    del entries[2]
    broken = verify_entries(entries).broken
    assert broken is not None and (broken.id, broken.check) == (4, Check.GAP)
    assert "expected entry 3" in broken.detail

    first_gone = _chain("acme", 3)[1:]
    broken = verify_entries(first_gone).broken
    assert broken is not None and (broken.id, broken.check) == (2, Check.GAP)


def test_a_deleted_entry_renumbered_over_breaks_the_link() -> None:
    entries = _chain("acme", 5)
    del entries[2]
    entries[2:] = [replace(e, id=e.id - 1) for e in entries[2:]]  # close the gap
    broken = verify_entries(entries).broken
    assert broken is not None and (broken.id, broken.check) == (3, Check.PREV_LINK)


def test_reordered_entries_are_caught() -> None:
    entries = _chain("acme", 5)
    entries[1], entries[2] = entries[2], entries[1]  # read out of order
    broken = verify_entries(entries).broken
    assert broken is not None and (broken.id, broken.check) == (3, Check.GAP)

    entries = _chain("acme", 5)
    swapped = [replace(entries[2], id=2), replace(entries[1], id=3)]  # positions exchanged
    broken = verify_entries([entries[0], *swapped, *entries[3:]]).broken
    assert broken is not None and (broken.id, broken.check) == (2, Check.PREV_LINK)


def test_an_entry_moved_to_another_tenant_is_caught() -> None:
    acme, globex = _chain("acme", 3), _chain("globex", 3)
    moved = replace(acme[1], tenant_id="globex")
    broken = verify_entries([*acme, globex[0], moved, *globex[2:]]).broken
    assert broken is not None and (broken.tenant_id, broken.id, broken.check) == (
        "globex",
        2,
        Check.PREV_LINK,
    )
    # relinked onto the other tenant's chain: the tenant is hashed, so the hash no longer matches
    relinked = replace(moved, prev_hash=globex[0].hash)
    broken = verify_entries([*acme, globex[0], relinked, *globex[2:]]).broken
    assert broken is not None and (broken.tenant_id, broken.id, broken.check) == ("globex", 2, Check.HASH)


def test_verification_stops_at_the_first_break_and_says_where() -> None:
    acme, globex = _chain("acme", 3), _chain("globex", 3)
    acme[1] = replace(acme[1], target="candidate/999")
    globex[0] = replace(globex[0], actor="someone")
    result = verify_entries([*acme, *globex])
    assert result.broken is not None and result.entries == 1 and result.tenants == 1
    assert str(result.broken).startswith("tenant 'acme' entry 2: hash mismatch (stored ")


def test_chain_refuses_what_cannot_be_an_entry() -> None:
    head = _chain("acme", 1)[0]
    good = AuditEntry("acme", T0, "system", "a", "t", "cli", "", 0, "")
    assert chain(head, good).id == 2 and chain(None, good).id == 1
    with pytest.raises(ValueError, match="door 'smtp' is not one of rest, partner-grpc, webhook, cli"):
        chain(head, replace(good, door="smtp"))
    with pytest.raises(ValueError, match="has no zone"):
        chain(head, replace(good, at=T0.replace(tzinfo=None)))
    with pytest.raises(ValueError, match="tenant_id is required"):
        chain(None, replace(good, tenant_id=""))
    with pytest.raises(ValueError, match="head belongs to tenant 'acme', not 'globex'"):
        chain(head, replace(good, tenant_id="globex"))
