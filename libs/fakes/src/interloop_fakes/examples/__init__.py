"""The vendors' own documented example payloads (Greenhouse webhooks and Harvest objects, Lever webhooks),
kept beside the fakes that serve them; the demo and the tests read them from here, never by a path into
tests/. Files are stored byte for byte as the vendors publish them (signatures are computed over them)."""

from __future__ import annotations

import json
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

# The package is installed as plain files (never zipped), so its resources are a real directory: tests
# glob over it.
EXAMPLES = Path(str(resources.files(__name__)))


def example(vendor: str, name: str) -> Traversable:
    """One example, e.g. example("greenhouse", "f-gh-02-hire_candidate.json")."""
    found = resources.files(__name__).joinpath(vendor, name)
    if not found.is_file():
        raise FileNotFoundError(f"no {vendor} example named {name!r} in {EXAMPLES / vendor}")
    return found


def raw(vendor: str, name: str) -> bytes:
    """The example's bytes, as the vendor sends them (what a webhook signature covers)."""
    return example(vendor, name).read_bytes()


def load(vendor: str, name: str) -> Any:
    """The example parsed as JSON."""
    return json.loads(raw(vendor, name))


def names(vendor: str, pattern: str = "*.json") -> list[str]:
    """The file names of a vendor's examples matching `pattern`, sorted."""
    return sorted(p.name for p in (EXAMPLES / vendor).glob(pattern))
