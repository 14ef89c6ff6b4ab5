"""gRPC helpers shared by servicers: field-violation errors, timestamps, tenants, page tokens."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Any, NoReturn

import grpc
from google.protobuf import any_pb2, timestamp_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from interloop_common.errors import FieldViolations

__all__ = ["FieldViolations"]  # re-exported: servicers import it from here


class Check:
    """Collects field violations so one response names every bad field at once."""

    def __init__(self) -> None:
        self.violations: list[tuple[str, str]] = []

    def require(self, ok: bool, field: str, description: str) -> Check:
        if not ok:
            self.violations.append((field, description))
        return self

    def done(self) -> None:
        if self.violations:
            raise FieldViolations(self.violations)


async def abort_invalid(context: grpc.aio.ServicerContext, violations: list[tuple[str, str]]) -> NoReturn:
    detail = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in violations
        ]
    )
    packed = any_pb2.Any()
    packed.Pack(detail)
    status = status_pb2.Status(
        code=code_pb2.INVALID_ARGUMENT,
        message="; ".join(f"{f}: {d}" for f, d in violations),
        details=[packed],
    )
    await context.abort_with_status(rpc_status.to_status(status))
    raise AssertionError("unreachable")


async def abort_rate_limited(context: grpc.aio.ServicerContext, message: str, retry_after: float) -> NoReturn:
    """RESOURCE_EXHAUSTED with google.rpc.RetryInfo: when the caller may try again."""
    retry = error_details_pb2.RetryInfo()
    retry.retry_delay.FromMilliseconds(max(1, int(retry_after * 1000)))
    packed = any_pb2.Any()
    packed.Pack(retry)
    status = status_pb2.Status(code=code_pb2.RESOURCE_EXHAUSTED, message=message, details=[packed])
    await context.abort_with_status(rpc_status.to_status(status))
    raise AssertionError("unreachable")


def field_violations(error: grpc.aio.AioRpcError | grpc.RpcError) -> list[tuple[str, str]]:
    """Client side: the field violations carried by an INVALID_ARGUMENT error."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    out: list[tuple[str, str]] = []
    for detail in status.details if status else []:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            out.extend((v.field, v.description) for v in bad.field_violations)
    return out


def ts(dt: datetime) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(dt.astimezone(UTC))
    return out


def dt(value: timestamp_pb2.Timestamp) -> datetime:
    return value.ToDatetime(tzinfo=UTC)


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> str:
    if not token:
        return ""
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise FieldViolations([("page.page_token", "not a token returned by a previous page")]) from None


def page_size(requested: int, *, default: int = 50, maximum: int = 500) -> int:
    if requested < 0:
        raise FieldViolations([("page.page_size", "must be >= 0")])
    return min(requested or default, maximum)


def tenant(request: Any, field: str = "tenant_id") -> str:
    """The tenant a call acts for: required on every tenant-scoped request."""
    value = getattr(request, field)
    if not value:
        raise FieldViolations([(field, "required")])
    return value


def uuid_field(value: str, field: str) -> str:
    """A required UUID field (canonical lower-case text)."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise FieldViolations([(field, "must be a UUID")]) from None
