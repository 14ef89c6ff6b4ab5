"""protobuf <-> stored rows for connections and automation rules."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
from google.protobuf import json_format, struct_pb2
from interloop.sync.v1 import sync_pb2 as pb
from interloop_common.rpc import ts

from interloop_sync.store.connections import Connection

MODES = {pb.CONNECTION_MODE_ACTIVE: "active", pb.CONNECTION_MODE_SHADOW: "shadow"}
MODE_PB = {v: k for k, v in MODES.items()}


def struct(value: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(value)
    return out


def from_struct(value: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(value)


def connection_pb(c: Connection) -> pb.Connection:
    return pb.Connection(
        id=c.id,
        provider=c.provider,
        mode=MODE_PB[c.mode],
        owner=c.owner,
        base_url=c.base_url,
        created_at=ts(c.created_at),
        name=c.name,
        field_mapping=struct(c.field_mapping),
        stage_policy=struct(c.stage_policy),
        hris_connection_id=c.hris_connection_id,
        settings=c.settings,
    )


def rule_pb(row: Any) -> pb.AutomationRule:
    source = json.loads(row["source"])
    return pb.AutomationRule(
        id=row["id"],
        dsl=source.get("dsl", ""),
        json=struct(source["json"]) if "json" in source else None,
        disabled=not row["enabled"],
        on=row["on_event"],
        action=row["action"],
        created_at=ts(row["created_at"]),
    )


def erasure_pb(row: asyncpg.Record, steps: list[asyncpg.Record]) -> pb.Erasure:
    return pb.Erasure(
        id=str(row["id"]),
        candidate_id=row["candidate_id"],
        status=row["status"],
        requested_by=row["requested_by"],
        reason=row["reason"],
        requested_at=ts(row["requested_at"]),
        completed_at=ts(row["completed_at"]) if row["completed_at"] else None,
        steps=[
            pb.ErasureStep(
                service=s["service"],
                status=s["outcome"] or "pending",
                done_at=ts(s["done_at"]) if s["done_at"] else None,
                detail=s["detail"],
            )
            for s in steps
        ],
    )
