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

from interloop_gateway.backends import BackendError

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


# How long a client should wait before it retries a call whose backend was down or slow: about the time a
# restarted backend pod takes to serve again (and the gateway's health watch to see it).
BACKEND_RETRY_AFTER_SECONDS = 5
_BACKEND_PROBLEMS = {
    503: ("is unavailable", "backend-unavailable"),
    504: ("did not answer in time", "backend-timeout"),
}


def _from_grpc(exc: grpc.aio.AioRpcError) -> ProblemDetailsException:
    status = _GRPC_TO_HTTP.get(exc.code(), 502)
    if status in (502, 503, 504):
        return backend_problem(status, exc)
    extra = None
    if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:
        extra = {"errors": [{"field": f, "detail": d} for f, d in field_violations(exc)]}
    return problem(status, exc.details() or exc.code().name, extra=extra)


def backend_problem(status: int, exc: grpc.aio.AioRpcError) -> ProblemDetailsException:
    """A backend that is down (503: UNAVAILABLE, it did not take the call), did not answer in time (504:
    DEADLINE_EXCEEDED, the outcome is unknown) or failed otherwise (502): named, with Retry-After. Its
    details stay in the log (they may describe the backend's insides)."""
    backend = exc.backend if isinstance(exc, BackendError) else ""
    what, kind = _BACKEND_PROBLEMS.get(status, ("failed", "backend-failed"))
    logging.getLogger(__name__).warning(
        "backend %s %s: %s %s", backend or "?", what, exc.code().name, exc.details() or ""
    )
    who = f"the {backend} service" if backend else "a backend service"
    return problem(
        status,
        f"{who} {what} ({exc.code().name}); retry later",
        extra={"backend": backend, "grpc_status": exc.code().name},
        headers={"Retry-After": str(BACKEND_RETRY_AFTER_SECONDS)},
        type_=f"https://interloop.dev/problems/{kind}",
    )


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
