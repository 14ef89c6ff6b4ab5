"""The OpenAPI document says how errors look: every error answer is RFC 9457 problem+json, and each
operation lists the error statuses it can answer with that schema (Litestar documents a 400 as plain JSON
in its own validation shape, and nothing else)."""

from __future__ import annotations

from http import HTTPStatus

from litestar.openapi.spec import Components, OpenAPI, OpenAPIMediaType, OpenAPIResponse, Reference, Schema
from litestar.openapi.spec.enums import OpenAPIType

PROBLEM_JSON = "application/problem+json"

PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    description="RFC 9457 problem details",
    required=["type", "title", "status"],
    properties={
        "type": Schema(type=OpenAPIType.STRING, description="a URI naming the kind of problem"),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER, minimum=400, maximum=599),
        "detail": Schema(type=OpenAPIType.STRING, description="what went wrong, for a human"),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            description="one entry per bad field",
            items=Schema(
                type=OpenAPIType.OBJECT,
                properties={
                    "field": Schema(type=OpenAPIType.STRING),
                    "detail": Schema(type=OpenAPIType.STRING),
                },
            ),
        ),
        "backend": Schema(
            type=OpenAPIType.STRING,
            description="on a 502/503/504: the backend service that was down or slow (scheduler, "
            "scorecard, sync); the answer carries Retry-After",
        ),
        "required_scopes": Schema(
            type=OpenAPIType.ARRAY,
            description="on a 403 for a key without the route's scopes: any one of these would do",
            items=Schema(type=OpenAPIType.STRING),
        ),
    },
)

# What any operation may answer besides its own: bad input, no or a bad key, a scope it lacks, a missing
# resource, a conflict, an Idempotency-Key reused, too much, and a backend that is down or did not answer.
COMMON = (400, 401, 403, 404, 409, 413, 422, 429, 503, 504)
PUBLIC = (400, 404, 409, 413, 422, 429, 503, 504)


def document_problems(schema: OpenAPI, *, public_prefixes: tuple[str, ...] = ()) -> OpenAPI:
    """Rewrites `schema` in place: errors are problem+json with the Problem schema, and each operation
    documents the common error statuses (the public ones for routes without an API key)."""
    schema.components = schema.components or Components()
    schema.components.schemas = dict(schema.components.schemas or {})
    schema.components.schemas["Problem"] = PROBLEM
    ref = OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))
    for path, item in (schema.paths or {}).items():
        statuses = PUBLIC if path.startswith(public_prefixes) else COMMON
        for method in ("get", "put", "post", "delete", "patch"):
            op = getattr(item, method, None)
            if op is None:
                continue
            responses = dict(op.responses or {})
            for code in statuses:
                responses.setdefault(str(code), OpenAPIResponse(description=HTTPStatus(code).phrase))
            for code, response in responses.items():
                if code.isdigit() and int(code) >= 400 and isinstance(response, OpenAPIResponse):
                    response.content = {PROBLEM_JSON: ref}
            op.responses = responses
    return schema
