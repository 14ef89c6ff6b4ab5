"""Candidates as the ATS knows them: two records merged into one there become one here."""

from __future__ import annotations

import logging

import asyncpg

from interloop_scorecard.store import candidates as store

log = logging.getLogger(__name__)


async def merge_candidates(
    conn: asyncpg.Connection, tenant_id: str, surviving_id: str, merged_id: str
) -> dict[str, int]:
    """In the caller's (inbox) transaction: the merged candidate's scorecards, owed scorecards, decisions,
    outcomes and demographics become the survivor's, so reliability, validity and the bias audit count one
    person once. A redelivery finds nothing left to move."""
    moved = await store.rekey_candidate(conn, tenant_id, merged_id, surviving_id)
    log.info("merged candidate re-keyed (tenant %s): %s", tenant_id, moved)
    return moved
