"""Erasing a candidate the ATS erased: their name and/or address leave links, bookings, sent data and dead
letters, in the inbox's transaction."""

from __future__ import annotations

import asyncpg
from interloop_common.erasure import erases_person, tombstone
from interloop_common.inbox import erase_dead_letters

from interloop_scheduler.store import links as link_store

NAME_FIELDS = frozenset({"full_name", "first_name", "last_name", "name", "candidate_name"})


def erased_parts(fields: list[str], *, deleted: bool) -> tuple[bool, bool]:
    """(erase the name?, erase the email?) for an ATS deletion or an anonymisation of `fields` (an
    anonymisation without a field list erases everything we hold)."""
    if deleted or not fields:
        return True, True
    lowered = [f.lower() for f in fields]
    return any(f in NAME_FIELDS for f in lowered), any("email" in f for f in lowered)


async def erase_candidate(
    conn: asyncpg.Connection,
    tenant_id: str,
    candidate_id: str,
    fields: list[str],
    *,
    deleted: bool,
    source: str = "ats",
) -> None:
    name, email = erased_parts(fields, deleted=deleted)
    # what we hold of them, to find it in dead-lettered records too
    held = await link_store.candidate_contacts(conn, tenant_id, candidate_id)
    needles = [e for e, _ in held if email] + [n for _, n in held if name]
    await erase_dead_letters(conn, tenant_id, needles)
    await link_store.erase_candidate(
        conn, tenant_id, candidate_id, name=name, email=email, close_links=deleted
    )
    if erases_person(fields, deleted=deleted):
        # no request opened or booking written for them afterwards (a stage change still in flight)
        await tombstone(conn, tenant_id, candidate_id, source)
