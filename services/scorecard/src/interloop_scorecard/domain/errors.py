"""Domain errors that say which field was wrong and what would be right."""

from __future__ import annotations


class ValidationError(ValueError):
    """A value in a template or scorecard broke a rule.

    `field` is a dotted path to the offending value (e.g. ``dimensions[2].scale.max``) and `message`
    says what would have been accepted, so the rpc layer can map it to INVALID_ARGUMENT verbatim.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
