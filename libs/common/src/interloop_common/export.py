"""Access requests (GDPR Art. 15): the rows a service holds about one candidate, as JSON-able records.

Each service names its queries (table name -> SQL over `$1` tenant and `$2` candidate id), run in the
tenant's transaction; values become JSON (timestamps ISO 8601, ids strings, JSON columns parsed). Columns
that hold credentials rather than data about the person (token hashes, secrets) are left out, and binary
columns are summarised by size."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg
from google.protobuf import struct_pb2

# Column names that are credentials, not personal data: never exported.
WITHHELD = ("token", "hash", "secret", "credential", "signature")
# A candidate's scheduling and manage links are bearer credentials (in planned messages, sent bodies):
# the bundle says a link was sent, not the token that opens it.
LINK_TOKEN = re.compile(r"(/schedule/|/v1/scheduling-links/)[^\s\"'<>/]+")


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes | memoryview):
        raw = bytes(value)
        return (
            {"bytes": len(raw), "base64": base64.b64encode(raw).decode()}
            if len(raw) <= 4096
            else {"bytes": len(raw)}
        )
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return jsonable(json.loads(value))  # a jsonb column asyncpg hands over as text
        except ValueError:
            pass
    if isinstance(value, str):
        return LINK_TOKEN.sub(r"\1[withheld]", value)
    if isinstance(value, asyncpg.Range):  # a booking's tstzrange
        return {"lower": jsonable(value.lower), "upper": jsonable(value.upper)}
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)  # inet, other PostgreSQL types: their text form


def record(row: asyncpg.Record) -> dict[str, Any]:
    return {k: jsonable(v) for k, v in row.items() if not any(w in k.lower() for w in WITHHELD)}


async def gather(
    conn: asyncpg.Connection, tenant_id: str, candidate_id: str, queries: Mapping[str, str]
) -> dict[str, list[dict[str, Any]]]:
    """Every query's rows, by table name (empty tables kept: the bundle shows what was looked at)."""
    return {
        name: [record(r) for r in await conn.fetch(sql, tenant_id, candidate_id)]
        for name, sql in queries.items()
    }


def export_request(request: Any) -> tuple[str, str]:
    """(tenant, candidate) of an ExportCandidate call, or INVALID_ARGUMENT naming the fields."""
    from interloop_common.rpc import Check

    Check().require(bool(request.tenant_id), "tenant_id", "required").require(
        0 < len(request.candidate_id) <= 200, "candidate_id", "1-200 characters"
    ).done()
    return request.tenant_id, request.candidate_id


def to_struct(tables: Mapping[str, list[dict[str, Any]]]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update({name: rows for name, rows in tables.items()})
    return out
