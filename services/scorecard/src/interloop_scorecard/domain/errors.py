"""Domain errors that say which field was wrong and what would be right."""

from __future__ import annotations

from interloop_common.errors import FieldViolations


class ValidationError(FieldViolations, ValueError):
    """A value in a template or scorecard broke a rule.

    `field` is a dotted path to the offending value (e.g. ``dimensions[2].scale.max``) and `message`
    says what would have been accepted. It is a FieldViolations, so the gRPC server answers it with
    INVALID_ARGUMENT naming the field; use cases re-root the path (``under``) where the request nests it.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__([(field, message)])
        self.field = field
        self.message = message

    def under(self, prefix: str) -> ValidationError:
        """The same violation with its path under `prefix` (e.g. ``scorecard.``)."""
        return ValidationError(f"{prefix}{self.field}", self.message)
