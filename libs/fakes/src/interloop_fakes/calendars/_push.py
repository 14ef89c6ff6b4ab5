"""What the fake calendars' push channels share: where a vendor may deliver (HTTPS, or plain HTTP to
loopback so a test's gateway can listen) and the log of every delivery made, with the answer it got."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx


@dataclass(frozen=True, slots=True)
class Delivery:
    address: str
    headers: dict[str, str]
    body: bytes
    status: int  # 0 when the address did not answer


def deliverable(address: object) -> bool:
    """Google and Graph take HTTPS addresses only; the fakes also take http://127.0.0.1 / localhost."""
    if not isinstance(address, str):
        return False
    parts = urlsplit(address)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")


async def deliver(
    address: str, headers: dict[str, str], body: bytes = b"", seconds: float = 10.0
) -> tuple[int, httpx.Response | None]:
    try:
        async with httpx.AsyncClient(timeout=seconds) as client:
            response = await client.post(address, headers=headers, content=body)
    except httpx.HTTPError:
        return 0, None
    return response.status_code, response
