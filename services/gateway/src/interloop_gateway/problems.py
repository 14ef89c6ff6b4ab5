"""RFC 9457 problem+json for every error the REST API returns."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import grpc
from interloop_common.rpc import field_violations
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)

_GRPC_TO_HTTP = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.UNIMPLEMENTED: 501,
}


def problem(
    status: int,
    detail: str,
    *,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    type_: str | None = None,
) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=status,
        title=HTTPStatus(status).phrase,
        detail=detail,
        type_=type_
        or f"https://interloop.dev/problems/{HTTPStatus(status).phrase.lower().replace(' ', '-')}",
        extra=extra,
        headers=headers,
    )


def _from_http(exc: HTTPException) -> ProblemDetailsException:
    extra: dict[str, Any] | None = None
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        extra = {"errors": [{"field": e.get("key", ""), "detail": e.get("message", "")} for e in exc.extra]}
    return problem(exc.status_code, str(exc.detail), extra=extra, headers=exc.headers)


def _from_grpc(exc: grpc.aio.AioRpcError) -> ProblemDetailsException:
    status = _GRPC_TO_HTTP.get(exc.code(), 502)
    extra = None
    if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:
        extra = {"errors": [{"field": f, "detail": d} for f, d in field_violations(exc)]}
    detail = exc.details() or exc.code().name
    if status in (502, 503, 504):
        detail = f"a backend service is unavailable ({exc.code().name})"
    return problem(status, detail, extra=extra)


def internal_error(request: Request, exc: Exception) -> Response:
    logging.getLogger(__name__).exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "internal error").to_response(request)


def plugin() -> ProblemDetailsPlugin:
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            enable_for_all_http_exceptions=True,
            exception_to_problem_detail_map={HTTPException: _from_http, grpc.aio.AioRpcError: _from_grpc},
        )
    )
