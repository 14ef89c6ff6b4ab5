"""Gathering one candidate's data from every service (GDPR Art. 15): sync, the scheduler and the scorecard
service over gRPC, in parallel, and the gateway's own audit trail and access requests."""

from __future__ import annotations

import asyncio
import json
from html import escape
from typing import Any

from google.protobuf import json_format
from interloop.scheduler.v1 import scheduler_pb2
from interloop.scorecard.v1 import scorecard_pb2
from interloop.sync.v1 import sync_pb2
from interloop_common import db
from interloop_common.export import gather as gather_rows

from interloop_gateway.store import privacy as store

Bundle = dict[str, dict[str, list[Any]]]


async def gather(state: Any, tenant_id: str, candidate_id: str) -> Bundle:
    b = state.backends
    sync, scheduler, scorecard = await asyncio.gather(
        b.sync.ExportCandidate(
            sync_pb2.ExportCandidateRequest(tenant_id=tenant_id, candidate_id=candidate_id)
        ),
        b.scheduler.ExportCandidate(
            scheduler_pb2.ExportCandidateRequest(tenant_id=tenant_id, candidate_id=candidate_id)
        ),
        b.scorecard.ExportCandidate(
            scorecard_pb2.ExportCandidateRequest(tenant_id=tenant_id, candidate_id=candidate_id)
        ),
    )
    async with db.tenant_tx(state.pool, tenant_id) as conn:
        own = await gather_rows(conn, tenant_id, candidate_id, store.GATEWAY_QUERIES)
    return {
        "sync": json_format.MessageToDict(sync.records),
        "scheduler": json_format.MessageToDict(scheduler.records),
        "scorecard": json_format.MessageToDict(scorecard.records),
        "gateway": own,
    }


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return escape(json.dumps(value, ensure_ascii=False, sort_keys=True))
    return escape("" if value is None else str(value))


def summary_html(tenant_id: str, candidate_id: str, generated_at: str, bundle: Bundle) -> str:
    """A readable page of the same bundle: per service and table, how many records and what they hold."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Data held about candidate {escape(candidate_id)}</title>",
        "<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:12px}"
        "td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top;text-align:left}"
        "h2{margin-top:1.5em}.none{color:#777}</style></head><body>",
        f"<h1>Data held about candidate {escape(candidate_id)}</h1>",
        f"<p>Tenant {escape(tenant_id)} · generated {escape(generated_at)} · every service of Interloop. "
        "Credentials (token hashes, signatures) are not shown.</p>",
    ]
    for svc, tables in bundle.items():
        total = sum(len(rows) for rows in tables.values())
        parts.append(f"<h2>{escape(svc)} <small>({total} records)</small></h2>")
        for table, rows in tables.items():
            if not rows:
                parts.append(f"<p class='none'>{escape(table)}: nothing held</p>")
                continue
            columns = sorted({k for r in rows for k in r})
            parts.append(f"<h3>{escape(table)} ({len(rows)})</h3><table><tr>")
            parts += [f"<th>{escape(c)}</th>" for c in columns]
            parts.append("</tr>")
            for r in rows:
                parts.append("<tr>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c in columns) + "</tr>")
            parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)
