"""Text every door accepts: valid Unicode without NUL. A lone surrogate (JSON allows "\\ud800") cannot be
encoded into a protobuf string, and PostgreSQL text cannot hold NUL, so either would fail deep inside a
backend; they are refused at the door, naming the field, as 400 problem+json."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request

from interloop_gateway.problems import problem

MAX_DEPTH = 64


def _bad(value: str) -> str | None:
    if "\x00" in value:
        return "must not contain NUL (\\u0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (a lone surrogate \\ud800-\\udfff is not a character)"
    return None


def violations(value: Any, path: str = "", depth: int = 0) -> list[tuple[str, str]]:
    """(field, what is wrong) for every string (keys included) in a decoded JSON value."""
    if depth > MAX_DEPTH:
        return [(path or "body", f"nests deeper than {MAX_DEPTH} levels")]
    out: list[tuple[str, str]] = []
    if isinstance(value, str):
        if (why := _bad(value)) is not None:
            out.append((path or "body", why))
    elif isinstance(value, dict):
        for k, v in value.items():
            field = f"{path}.{k}" if path else str(k)
            if (why := _bad(str(k))) is not None:
                out.append((path or "body", f"a key {why}"))
                continue
            out.extend(violations(v, field, depth + 1))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(violations(v, f"{path}[{i}]", depth + 1))
    return out


async def refuse_bad_text(request: Request) -> None:
    """before_request: path and query parameters and a JSON body hold only valid text."""
    found = [(k, why) for k, v in request.path_params.items() if isinstance(v, str) and (why := _bad(v))]
    for k, v in request.query_params.multi_items():
        if (why := _bad(k) or _bad(v)) is not None:
            found.append((k, why))
    if request.method in ("POST", "PUT", "PATCH") and "json" in request.headers.get("content-type", ""):
        body = await request.body()  # Litestar keeps it for the handler
        if body:
            try:
                decoded = json.loads(body)
            except (ValueError, RecursionError):
                decoded = None  # the handler's own decoding answers malformed JSON
            found.extend(violations(decoded))
    if found:
        raise problem(
            400,
            "; ".join(f"{f}: {d}" for f, d in found[:10]),
            extra={"errors": [{"field": f, "detail": d} for f, d in found[:50]]},
        )
