"""Declarative per-tenant ATS→HRIS field mapping at offer acceptance.

A ``FieldMapping`` is loaded from a plain JSON-able dict::

    {
      "fields": {
        "first_name":   {"source": "candidate.first_name", "required": true},
        "department":   {"source": "jobs[0].departments[0].external_id",
                         "transform": [{"lookup": "departments"}], "required": true},
        "start_date":   {"source": "offer.starts_at", "transform": [{"date": ["%Y-%m-%d", "%m/%d/%Y"]}]},
        "compensation": {"source": "offer.custom_fields.salary.value", "transform": ["money"]},
        "manager":      {"source": "jobs[0].hiring_team.hiring_managers[0].employee_id", "owner": "hris"}
      },
      "lookups": {"departments": {"ex-dept-1": "D-ENG"}}
    }

Paths are dotted keys with ``[n]`` indexes and ``[key=value]`` filters
(``candidate.email_addresses[type=personal].value``); a list of paths plus ``{"join": " "}`` builds one
value from several. Values come out typed: ``str``, ``date``, ``Decimal``, ``Money`` — never float.

``plan_sync`` applies per-field source of truth against the last sync baseline and flags fields both
sides changed for a human; ``compare_read_back`` checks every written field against what the HRIS returns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from .dates import DATE_FORMATS, parse_date
from .model import Money

# The canonical HRIS fields every adapter understands (``vendors/workday.py``, ``vendors/bamboohr.py``).
HRIS_FIELDS = (
    "first_name",
    "last_name",
    "personal_email",
    "title",
    "department",
    "start_date",
    "compensation",
    "manager",
    "location",
)
MINIMUM_FIELDS = (
    "first_name",
    "last_name",
    "title",
    "department",
    "start_date",
    "compensation",
    "manager",
    "location",
)


class Owner(StrEnum):
    """Which system is the source of truth for a field once the HRIS record exists."""

    ATS = "ats"
    HRIS = "hris"


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str
    reason: str
    expected: str = ""

    def __str__(self) -> str:
        hint = f" (expected {self.expected})" if self.expected else ""
        return f"{self.field}: {self.reason}{hint}"


class FieldMappingError(Exception):
    """The record (or the spec) cannot be mapped; ``problems`` names every field that was wrong."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(p.field for p in self.problems)


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]|\[([^=\]]+)=([^\]]*)\]")


def _parse_path(path: str) -> list[tuple[str, Any]]:
    steps: list[tuple[str, Any]] = []
    pos = 0
    for m in _SEGMENT.finditer(path):
        if m.start() != pos and path[pos : m.start()] != ".":
            raise ValueError(f"bad path {path!r} near {path[pos:]!r}")
        key, index, fkey, fval = m.groups()
        if key is not None:
            steps.append(("key", key))
        elif index is not None:
            steps.append(("index", int(index)))
        else:
            steps.append(("filter", (fkey, fval)))
        pos = m.end()
    if pos != len(path) or not steps:
        raise ValueError(f"bad path {path!r}")
    return steps


def resolve(document: Any, path: str) -> Any:
    """The value at ``path`` in ``document`` or ``MISSING``; never raises for absent data."""
    current = document
    for kind, arg in _parse_path(path):
        if kind == "key":
            if isinstance(current, Mapping) and arg in current:
                current = current[arg]
            else:
                return MISSING
        elif kind == "index":
            if isinstance(current, list) and -len(current) <= arg < len(current):
                current = current[arg]
            else:
                return MISSING
        else:
            fkey, fval = arg
            if not isinstance(current, list):
                return MISSING
            match = [i for i in current if isinstance(i, Mapping) and str(i.get(fkey)) == fval]
            if not match:
                return MISSING
            current = match[0]
    return current


# ---- transforms --------------------------------------------------------------------------------------


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float | str):
        try:
            # str() first so a JSON float never leaks binary noise into the amount.
            return Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            pass
    raise ValueError(f"{value!r} is not a decimal amount")


def _to_money(value: Any, default_currency: str | None) -> Money:
    if isinstance(value, Money):
        return value
    if isinstance(value, Mapping):
        amount = value.get("amount", value.get("value"))
        currency = value.get("unit") or value.get("currency") or default_currency
        if amount is None or not currency:
            raise ValueError("currency value needs 'amount' and 'unit'")
        return Money(_to_decimal(amount), str(currency).upper())
    if default_currency:
        return Money(_to_decimal(value), default_currency.upper())
    raise ValueError(f"{value!r} is not a currency value")


@dataclass(frozen=True, slots=True)
class Transform:
    name: str
    arg: Any = None

    @classmethod
    def parse(cls, raw: Any, field_name: str) -> Transform:
        if isinstance(raw, str):
            return cls(raw)
        if isinstance(raw, Mapping) and len(raw) == 1:
            ((name, arg),) = raw.items()
            return cls(str(name), arg)
        raise FieldMappingError(
            [FieldProblem(field_name, f"bad transform {raw!r}", "a name or a one-key object")]
        )


TRANSFORM_NAMES = frozenset(
    {
        "strip",
        "lower",
        "upper",
        "title",
        "str",
        "date",
        "date_format",
        "decimal",
        "money",
        "lookup",
        "join",
        "default",
        "not_before",
    }
)


@dataclass(frozen=True, slots=True)
class FieldRule:
    target: str
    sources: tuple[str, ...]
    transforms: tuple[Transform, ...] = ()
    required: bool = False
    owner: Owner = Owner.ATS


@dataclass(frozen=True, slots=True)
class FieldMapping:
    rules: tuple[FieldRule, ...]
    lookups: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> FieldMapping:
        problems: list[FieldProblem] = []
        lookups = spec.get("lookups", {}) or {}
        rules: list[FieldRule] = []
        for target, raw in (spec.get("fields") or {}).items():
            if not isinstance(raw, Mapping):
                problems.append(FieldProblem(target, "field rule must be an object"))
                continue
            source = raw.get("source")
            sources = (source,) if isinstance(source, str) else tuple(source or ())
            if not sources or not all(isinstance(s, str) for s in sources):
                problems.append(FieldProblem(target, "missing 'source'", "a path or a list of paths"))
                continue
            for s in sources:
                try:
                    _parse_path(s)
                except ValueError as exc:
                    problems.append(FieldProblem(target, str(exc), "dotted keys, [n] or [key=value]"))
            raw_transforms = raw.get("transform", [])
            if not isinstance(raw_transforms, list):
                raw_transforms = [raw_transforms]
            try:
                transforms = tuple(Transform.parse(t, target) for t in raw_transforms)
            except FieldMappingError as exc:
                problems.extend(exc.problems)
                continue
            for t in transforms:
                if t.name not in TRANSFORM_NAMES:
                    problems.append(
                        FieldProblem(
                            target, f"unknown transform {t.name!r}", f"one of {sorted(TRANSFORM_NAMES)}"
                        )
                    )
                if t.name == "lookup" and t.arg not in lookups:
                    problems.append(
                        FieldProblem(
                            target, f"lookup table {t.arg!r} is not defined", f"one of {sorted(lookups)}"
                        )
                    )
            if len(sources) > 1 and not any(t.name == "join" for t in transforms):
                problems.append(FieldProblem(target, "several sources need a 'join' transform"))
            try:
                owner = Owner(raw.get("owner", "ats"))
            except ValueError:
                problems.append(FieldProblem(target, f"bad owner {raw.get('owner')!r}", "'ats' or 'hris'"))
                continue
            rules.append(FieldRule(target, sources, transforms, bool(raw.get("required", False)), owner))
        if problems:
            raise FieldMappingError(problems)
        return cls(tuple(rules), {k: dict(v) for k, v in lookups.items()})

    @property
    def owners(self) -> dict[str, Owner]:
        return {r.target: r.owner for r in self.rules}

    def apply(self, source: Mapping[str, Any], *, today: date | None = None) -> dict[str, Any]:
        """Map one ATS record to HRIS fields; every problem is reported at once in ``FieldMappingError``."""
        out: dict[str, Any] = {}
        problems: list[FieldProblem] = []
        for rule in self.rules:
            values = [resolve(source, s) for s in rule.sources]
            value: Any = values if len(values) > 1 else values[0]
            try:
                for t in rule.transforms:
                    value = self._transform(t, value, today)
            except ValueError as exc:
                problems.append(FieldProblem(rule.target, str(exc)))
                continue
            if value is MISSING or value is None or value == "":
                if rule.required:
                    problems.append(
                        FieldProblem(
                            rule.target,
                            f"required but {' + '.join(rule.sources)} is empty",
                            "a value in the ATS record",
                        )
                    )
                continue
            out[rule.target] = value
        if problems:
            raise FieldMappingError(problems)
        return out

    def _transform(self, t: Transform, value: Any, today: date | None) -> Any:
        name, arg = t.name, t.arg
        if name == "default":
            return arg if value is MISSING or value is None or value == "" else value
        if name == "join":
            parts = value if isinstance(value, list) else [value]
            kept = [str(p).strip() for p in parts if p is not MISSING and p not in (None, "")]
            return (arg if isinstance(arg, str) else " ").join(kept) if kept else MISSING
        if value is MISSING or value is None:
            return value
        if name in ("strip", "lower", "upper", "title", "str"):
            text = str(value).strip()
            return {
                "strip": text,
                "str": text,
                "lower": text.lower(),
                "upper": text.upper(),
                "title": text.title(),
            }[name]
        if name == "date":
            formats = tuple(arg) if isinstance(arg, list) and arg else DATE_FORMATS
            return parse_date(value, formats)
        if name == "date_format":  # render a parsed date into a vendor's string format
            parsed = value if isinstance(value, date) else parse_date(value)
            return parsed.strftime(str(arg)) if parsed else value
        if name == "not_before":  # e.g. Workday hire date = later of offer start and today
            parsed = value if isinstance(value, date) else parse_date(value)
            floor = today if arg == "today" else parse_date(arg)
            if floor is None:
                raise ValueError("not_before 'today' needs today= when applying the mapping")
            return max(parsed, floor) if parsed else value
        if name == "decimal":
            return _to_decimal(value)
        if name == "money":
            return _to_money(value, arg if isinstance(arg, str) else None)
        if name == "lookup":
            table = self.lookups[arg]
            key = str(value)
            if key not in table:
                shown = sorted(table)[:10]
                raise ValueError(f"{key!r} is not in lookup table {arg!r} (known: {shown})")
            return table[key]
        raise ValueError(f"unknown transform {name!r}")


# ---- source of truth and conflicts ----------------------------------------------------------------------


def canonical(value: Any) -> Any:
    """A comparable form: dates as ISO strings, amounts as normalised Decimals, text stripped."""
    if value is MISSING or value is None or value == "":
        return None
    if isinstance(value, Money):
        return ("money", _canon_decimal(value.amount), value.currency.upper())
    if (
        isinstance(value, Mapping)
        and ("amount" in value or "value" in value)
        and ("currency" in value or "unit" in value)
    ):
        try:
            return canonical(_to_money(value, None))
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return _canon_decimal(Decimal(value))
    if isinstance(value, float):
        return _canon_decimal(Decimal(str(value)))
    if isinstance(value, str):
        text = value.strip()
        try:
            return parse_date(text, ("%Y-%m-%d",)).isoformat()  # type: ignore[union-attr]
        except ValueError:
            return text
    return value


def _canon_decimal(d: Decimal) -> str:
    normalised = d.normalize()
    return format(normalised, "f")


@dataclass(frozen=True, slots=True)
class Conflict:
    field: str
    baseline: Any
    ats_value: Any
    hris_value: Any


@dataclass(frozen=True, slots=True)
class SyncPlan:
    """What to write to the HRIS now, what needs a human, and what was left alone (with why)."""

    create: bool
    writes: Mapping[str, Any]
    conflicts: tuple[Conflict, ...] = ()
    skipped: Mapping[str, str] = field(default_factory=dict)

    def baseline_after(
        self, previous: Mapping[str, Any] | None, hris_current: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """The baseline to store once ``writes`` succeeded (conflicted fields keep their old baseline)."""
        base = dict(previous or {})
        for key, value in (hris_current or {}).items():
            if key not in {c.field for c in self.conflicts}:
                base[key] = value
        base.update(self.writes)
        return base


def plan_sync(
    mapped: Mapping[str, Any],
    owners: Mapping[str, Owner],
    hris_current: Mapping[str, Any] | None,
    baseline: Mapping[str, Any] | None,
) -> SyncPlan:
    """Decide per field, from the ATS value, the HRIS value and the last synced baseline.

    * no HRIS record yet → create with every mapped field;
    * both sides changed since the baseline (to different values) → a ``Conflict``, nothing written;
    * only the ATS changed → written if the ATS owns the field, else skipped (HRIS is the truth);
    * only the HRIS changed, or nothing changed → left alone.
    Without a baseline, a difference on an ATS-owned field is written, on an HRIS-owned one skipped.
    """
    if hris_current is None:
        return SyncPlan(create=True, writes=dict(mapped))
    writes: dict[str, Any] = {}
    conflicts: list[Conflict] = []
    skipped: dict[str, str] = {}
    for name, ats_value in mapped.items():
        owner = owners.get(name, Owner.ATS)
        ats_c, hris_c = canonical(ats_value), canonical(hris_current.get(name))
        if ats_c == hris_c:
            continue
        if baseline is None or name not in baseline:
            if owner is Owner.ATS:
                writes[name] = ats_value
            else:
                skipped[name] = "hris owns this field"
            continue
        base_c = canonical(baseline[name])
        ats_changed, hris_changed = ats_c != base_c, hris_c != base_c
        if ats_changed and hris_changed:
            conflicts.append(Conflict(name, baseline[name], ats_value, hris_current.get(name)))
        elif ats_changed:
            if owner is Owner.ATS:
                writes[name] = ats_value
            else:
                skipped[name] = "hris owns this field"
        else:
            skipped[name] = "changed in hris only"
    return SyncPlan(create=False, writes=writes, conflicts=tuple(conflicts), skipped=skipped)


# ---- read-back ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mismatch:
    field: str
    written: Any
    read_back: Any


def compare_read_back(written: Mapping[str, Any], read_back: Mapping[str, Any]) -> list[Mismatch]:
    """Every written field compared with what the HRIS returns; absent read-back values are mismatches."""
    mismatches = []
    for name, value in written.items():
        got = read_back.get(name, MISSING)
        if got is MISSING or canonical(value) != canonical(got):
            mismatches.append(Mismatch(name, value, got))
    return mismatches
