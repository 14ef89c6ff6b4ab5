"""The errors use cases raise, one vocabulary for every service; the gRPC server maps them to status
codes in one place (grpc_server), so servicers never call ``context.abort`` for a refusal.

Pure: no grpc, no protobuf, so domain code may raise them too."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal the caller can understand; ``status`` names the gRPC status code it maps to."""

    status = "UNKNOWN"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The thing named does not exist for this tenant."""

    status = "NOT_FOUND"


class AlreadyExists(DomainError):
    """Creating it again would make a duplicate."""

    status = "ALREADY_EXISTS"


class Conflict(DomainError):
    """The current state does not allow this (a submitted scorecard, a booking past its cutoff)."""

    status = "FAILED_PRECONDITION"


class ConcurrentChange(DomainError):
    """Another change won the race: read again and retry."""

    status = "ABORTED"


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    status = "PERMISSION_DENIED"


class Unauthenticated(DomainError):
    """The credential presented (a token, a signature) does not prove who the caller is."""

    status = "UNAUTHENTICATED"


class Unavailable(DomainError):
    """A dependency cannot answer now; retrying later may work."""

    status = "UNAVAILABLE"


class RateLimited(DomainError):
    """The caller is over its rate limit; ``retry_after`` seconds from now it may call again."""

    status = "RESOURCE_EXHAUSTED"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FieldViolations(DomainError):
    """Bad input: each violation names the field and what would be right."""

    status = "INVALID_ARGUMENT"

    def __init__(self, violations: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {d}" for f, d in violations))
        self.violations = violations


def invalid(field: str, description: str) -> FieldViolations:
    return FieldViolations([(field, description)])
