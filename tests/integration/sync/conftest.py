"""Sync integration helpers: the documented Greenhouse hire with fresh ids, and the Workday field mapping."""

from __future__ import annotations

import json
from typing import Any

from interloop_fakes.ats import GREENHOUSE_HIRE_MAPPING
from interloop_fakes.examples import EXAMPLES

FIXTURES = EXAMPLES
HIRE_TEMPLATE = json.loads((FIXTURES / "greenhouse" / "f-gh-02-hire_candidate.json").read_text())

WORKDAY_MAPPING = GREENHOUSE_HIRE_MAPPING


def synthetic_hire(n: int, *, salary: int = 80000) -> dict[str, Any]:
    """The documented hire_candidate payload with fresh ids, names and salary for record `n`."""
    body = json.loads(json.dumps(HIRE_TEMPLATE))
    app = body["payload"]["application"]
    app["id"] = 90_000_000 + n
    cand = app["candidate"]
    cand["id"] = 80_000_000 + n
    cand["first_name"], cand["last_name"] = f"Hire{n}", f"Person{n}"
    cand["email_addresses"] = [{"value": f"Hire{n}@Example.com", "type": "personal"}]
    cand["phone_numbers"] = [{"value": f"+1 415 555 {n:04d}", "type": "mobile"}]
    app["offer"]["id"] = 70_000_000 + n
    app["offer"]["custom_fields"]["salary"]["value"]["amount"] = salary + n
    return body
