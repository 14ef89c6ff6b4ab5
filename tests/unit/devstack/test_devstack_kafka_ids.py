"""The KRaft cluster id handed to `kafka-storage format` can never look like an option."""

from __future__ import annotations

import uuid

from interloop_devstack import kafka


def test_cluster_id_never_starts_with_a_dash(monkeypatch) -> None:
    # 0xfb... encodes to "-w..." in URL-safe base64: the storage tool would read it as a flag.
    drawn = iter([uuid.UUID(bytes=bytes([0xFB]) + bytes(15)), uuid.UUID(bytes=bytes(16))])
    monkeypatch.setattr(kafka.uuid, "uuid4", lambda: next(drawn))
    cluster_id = kafka._cluster_id()
    assert not cluster_id.startswith("-")
    assert cluster_id == "A" * 22


def test_cluster_ids_are_22_url_safe_characters() -> None:
    ids = {kafka._cluster_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
