"""Erasure (GDPR Art. 17/19): a candidate erased in the ATS has the free text written about them blanked
and, when the erasure covers them, their demographics deleted; their ratings stay, under the opaque
candidate id, for the statistics."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg
from interloop_common.erasure import erases_person, tombstone

from interloop_scorecard.store import erasure as store

# An erasure naming any field like these covers the candidate's self-reported demographics.
DEMOGRAPHIC_HINTS = ("eeoc", "demographic", "gender", "race", "ethnicity", "veteran", "disability")


def covers_demographics(fields: Iterable[str], *, deleted: bool) -> bool:
    """A deleted candidate, an erasure of everything (no fields named) or of a demographic field."""
    named = [f.lower() for f in fields]
    return deleted or not named or any(h in f for f in named for h in DEMOGRAPHIC_HINTS)


async def erase_candidate(
    conn: asyncpg.Connection,
    tenant_id: str,
    candidate_id: str,
    *,
    fields: Iterable[str],
    deleted: bool,
    source: str = "ats",
) -> dict[str, int]:
    """Inside the inbox's tenant transaction; returns how many rows each step touched."""
    fields = list(fields)
    done = await store.erase_candidate(
        conn, tenant_id, candidate_id, demographics=covers_demographics(fields, deleted=deleted)
    )
    if erases_person(fields, deleted=deleted):
        # evidence written about them afterwards is blanked as it is stored (a scorecard still in flight)
        await tombstone(conn, tenant_id, candidate_id, source)
    return done
