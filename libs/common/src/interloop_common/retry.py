"""The one retry policy: bounded attempts, exponential backoff with full jitter (tenacity)."""

from __future__ import annotations

from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential


class Permanent(Exception):
    """An error that retrying cannot fix (bad input, a forged payload): fail at once."""


def policy(
    *, attempts: int, initial: float = 0.2, maximum: float = 5.0, retry_on: type[BaseException] = Exception
) -> AsyncRetrying:
    return AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=wait_random_exponential(multiplier=initial, max=maximum),
        retry=retry_if_exception(lambda e: isinstance(e, retry_on) and not isinstance(e, Permanent)),
        reraise=True,
    )
