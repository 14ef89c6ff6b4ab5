"""Candidate identity: dedupe by remote id, normalised email and phone; merges; PII erasure.

Email normalisation is deliberately honest: lowercase + strip + drop a ``+tag``; no provider-specific
tricks (gmail dots), which would merge different people on other domains.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from .model import Candidate, Merge

_NON_DIGITS = re.compile(r"\D")
_MIN_PHONE_DIGITS = 7


def normalise_email(email: str | None) -> str | None:
    if not email:
        return None
    text = email.strip().lower()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or " " in text:
        return None
    local = local.split("+", 1)[0]
    return f"{local}@{domain}" if local else None


def normalise_phone(phone: str | None, default_country_code: str = "1") -> str | None:
    """E.164-ish: ``+`` and digits. A 10-digit national number gets ``default_country_code``."""
    if not phone:
        return None
    text = phone.strip()
    # Drop an extension ("x123", "ext. 4") before collecting digits.
    text = re.split(r"(?i)\s*(?:x|ext\.?)\s*\d+$", text)[0]
    digits = _NON_DIGITS.sub("", text)
    if text.startswith("00"):
        digits = digits[2:]
    elif not text.startswith("+") and len(digits) == 10 and default_country_code:
        digits = default_country_code + digits
    if len(digits) < _MIN_PHONE_DIGITS or len(digits) > 15:
        return None
    return "+" + digits


def identity_keys(candidate: Candidate, default_country_code: str = "1") -> set[str]:
    keys = {f"id:{candidate.provider}:{candidate.remote_id}"}
    keys |= {f"email:{e}" for e in map(normalise_email, candidate.emails) if e}
    keys |= {f"phone:{p}" for p in (normalise_phone(x, default_country_code) for x in candidate.phones) if p}
    return keys


@dataclass(frozen=True, slots=True)
class IdentityGroup:
    """One person: the canonical record (fields combined) and the records folded into it."""

    canonical: Candidate
    merged: tuple[Candidate, ...]
    matched_on: tuple[str, ...]  # the shared keys that tied the records together

    @property
    def merged_ids(self) -> tuple[tuple[str, str], ...]:
        return tuple((c.provider, c.remote_id) for c in self.merged)


def _rank(c: Candidate) -> tuple[datetime, str, str]:
    # Oldest record wins, so the canonical id is stable as duplicates arrive later.
    return (c.created_at or datetime.max.replace(tzinfo=UTC), c.provider, c.remote_id)


def _combine(primary: Candidate, others: Sequence[Candidate]) -> Candidate:
    def union(attr: str) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for c in (primary, *others):
            for v in getattr(c, attr):
                seen.setdefault(v, None)
        return tuple(seen)

    filled = {}
    for name in ("first_name", "last_name", "title", "company", "external_id", "recruiter"):
        if getattr(primary, name) is None:
            filled[name] = next((getattr(o, name) for o in others if getattr(o, name) is not None), None)
    custom = {}
    for c in reversed((primary, *others)):
        custom.update(c.custom_fields)
    return dataclasses.replace(
        primary,
        emails=union("emails"),
        phones=union("phones"),
        tags=union("tags"),
        custom_fields=custom,
        **filled,
    )


def dedupe(candidates: Iterable[Candidate], default_country_code: str = "1") -> list[IdentityGroup]:
    """Group records sharing a remote id, a normalised email or a normalised phone (transitively)."""
    records = list(candidates)
    parent = list(range(len(records)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner_of: dict[str, int] = {}
    keys_of = [identity_keys(c, default_country_code) for c in records]
    for i, keys in enumerate(keys_of):
        for key in keys:
            if key in owner_of:
                parent[find(i)] = find(owner_of[key])
            else:
                owner_of[key] = i
    groups: dict[int, list[int]] = {}
    for i in range(len(records)):
        groups.setdefault(find(i), []).append(i)
    result = []
    for members in groups.values():
        ordered = sorted(members, key=lambda i: _rank(records[i]))
        primary, rest = records[ordered[0]], [records[i] for i in ordered[1:]]
        # Repeated copies of one record (same provider + id) are not separate merged records.
        seen_ids = {(primary.provider, primary.remote_id)}
        unique_rest = []
        for c in rest:
            if (c.provider, c.remote_id) not in seen_ids:
                seen_ids.add((c.provider, c.remote_id))
                unique_rest.append(c)
        rest = unique_rest
        shared: set[str] = set()
        if len(members) > 1:
            counts: dict[str, int] = {}
            for i in members:
                for k in keys_of[i]:
                    counts[k] = counts.get(k, 0) + 1
            shared = {k for k, n in counts.items() if n > 1}
        result.append(IdentityGroup(_combine(primary, rest), tuple(rest), tuple(sorted(shared))))
    return sorted(result, key=lambda g: _rank(g.canonical))


@dataclass(frozen=True, slots=True)
class MergeOutcome:
    canonical: Candidate
    merged_ids: tuple[str, ...]  # remote ids now pointing at ``canonical``
    remap: Mapping[str, str]  # old remote id -> surviving remote id


def apply_merge(records: Mapping[str, Candidate], event: Merge) -> MergeOutcome:
    """Fold a vendor merge (Greenhouse ``merge_candidate``) into our records: remap, never delete.

    ``records`` are the mirrored candidates of the event's provider keyed by remote id. When the
    surviving record is not mirrored yet it is represented by an id-only placeholder.
    """
    surviving = records.get(event.surviving_id) or Candidate(
        provider=event.provider, remote_id=event.surviving_id
    )
    merged = records.get(event.merged_id)
    canonical = _combine(surviving, [merged] if merged else [])
    return MergeOutcome(canonical, (event.merged_id,), {event.merged_id: event.surviving_id})


# Greenhouse ``anonymized_fields`` names → our Candidate attributes.
_ERASABLE = {
    "full_name": ("first_name", "last_name"),
    "first_name": ("first_name",),
    "last_name": ("last_name",),
    "email_addresses": ("emails",),
    "phone_numbers": ("phones",),
    "current_title": ("title",),
    "current_company": ("company",),
    "tags": ("tags",),
    "custom_fields": ("custom_fields",),
    "external_id": ("external_id",),
    "recruiter": ("recruiter",),
}


def erase(candidate: Candidate, fields: Iterable[str] | None = None) -> Candidate:
    """An anonymised copy: ids kept (they are the recipient map for Art. 19 fan-out), PII blanked.

    ``fields`` (Greenhouse ``anonymized_fields`` names) limits the erasure; None erases everything.
    Names follow Greenhouse: first name "Anonymized", last name the remote id.
    """
    wanted = set(_ERASABLE) if fields is None else set(fields)
    unknown = wanted - set(_ERASABLE)
    attrs = {a for f in wanted & set(_ERASABLE) for a in _ERASABLE[f]}
    blank: dict[str, object] = {}
    for attr in attrs:
        if attr == "first_name":
            blank[attr] = "Anonymized"
        elif attr == "last_name":
            blank[attr] = candidate.remote_id
        elif attr in ("emails", "phones", "tags"):
            blank[attr] = ()
        elif attr == "custom_fields":
            blank[attr] = {}
        else:
            blank[attr] = None
    # Fields we do not mirror (scorecards_and_interviews, offers, …) need no local change here.
    del unknown
    return dataclasses.replace(candidate, is_anonymised=True, **blank)


def contact_needles(c: Candidate) -> list[str]:
    """What names or reaches the candidate, to find in records held elsewhere (dead letters) at erasure."""
    return [f"{c.first_name or ''} {c.last_name or ''}".strip(), *c.emails, *c.phones]
