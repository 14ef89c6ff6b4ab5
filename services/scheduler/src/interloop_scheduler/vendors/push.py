"""Push from the calendars: Google Calendar watch channels and Microsoft Graph change-notification
subscriptions, and the one event read that tells whether the calendar's owner declined an event we wrote.

Google (vendor-contracts-2.md A6.1, confirmed): ``POST {base}/calendars/{calendarId}/events/watch`` with
``{id, type: "web_hook", address, token, expiration (ms since the epoch)}``; each notification carries
X-Goog-Channel-ID / X-Goog-Channel-Token / X-Goog-Resource-State and no body. Channels never renew: a
new channel is opened before ``expiration`` and the old one stopped with ``POST {base}/channels/stop
{id, resourceId}`` — that path is UNCONFIRMED in A6.1 and followed from Google's published push guide,
as is the answer's ``resourceId`` and ``expiration`` (a string of milliseconds). Declines: ``GET
{base}/calendars/{calendarId}/events/{eventId}``, ``attendees[].responseStatus`` (needsAction, declined,
tentative, accepted; A6.2) of the attendee with ``self: true`` or the owner's address.

Graph (A7.1-A7.3, confirmed): ``POST {base}/subscriptions {changeType, notificationUrl, resource,
expirationDateTime, clientState, lifecycleNotificationUrl}`` -> 201; Graph first calls notificationUrl (and
lifecycleNotificationUrl, the same door here) with ?validationToken= and creates nothing unless it is
echoed (text/plain, 200) within 10 s. Renewal is ``PATCH
{base}/subscriptions/{id} {expirationDateTime}`` -> 200 (A7.1). The resource ``/users/{id}/events`` with
``created,updated,deleted`` is UNCONFIRMED in A7.1 and followed from Graph's supported-resources list;
an event lives at most 4230 minutes. Declines: ``GET {base}/users/{id}/events/{eventId}`` (A7.6,
UNCONFIRMED, from Graph's event reference): ``attendees[].status.response`` or the owner's
``responseStatus.response`` == "declined"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from ._http import RetryPolicy, SourceError, parse_instant, send, vendor_code

GRAPH_MAX_LIFETIME = timedelta(minutes=4230)


@dataclass(frozen=True, slots=True)
class Channel:
    channel_id: str
    resource_id: str
    expires_at: datetime


class PushRefused(Exception):
    """The vendor would not open or renew the channel; ``reason`` is a fixed code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def _call(vendor: str, client: httpx.AsyncClient, method: str, url: str, retry: RetryPolicy, **kw: Any):  # type: ignore[no-untyped-def]
    try:
        return await send(vendor, client, method, url, retry, **kw)
    except SourceError as exc:
        raise PushRefused(exc.reason) from None


async def _event(
    vendor: str, client: httpx.AsyncClient, url: str, retry: RetryPolicy, headers: dict
) -> dict | None:
    """An event as the vendor has it now; None when it could not be read."""
    try:
        response = await _call(vendor, client, "GET", url, retry, headers=headers)
        event = response.json() if response.status_code == 200 else None
    except (PushRefused, ValueError):
        return None
    return event if isinstance(event, dict) else None


def _code(response: httpx.Response, vendor: str) -> str:
    try:
        error = response.json()["error"]
        code = error["errors"][0]["reason"] if vendor == "google" else error["code"]
    except (ValueError, KeyError, TypeError, IndexError):
        code = ""
    return f"{vendor}: HTTP {response.status_code} {vendor_code(code)}".strip()


def _graph_instant(text: str) -> datetime:
    """Graph writes up to 7 fractional digits ('2016-03-20T11:00:00.0000000Z'); Python reads 6."""
    head, _, frac = text.removesuffix("Z").partition(".")
    offset = ""
    for sign in ("+", "-"):
        if sign in frac:
            frac, _, rest = frac.partition(sign)
            offset = sign + rest
    return parse_instant(head + (f".{frac[:6]}" if frac else "") + (offset or "+00:00"))


class GoogleWatch:
    def __init__(
        self,
        client: httpx.AsyncClient,
        token: str,
        base_url: str = "https://www.googleapis.com/calendar/v3",
        retry: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.client, self.base_url, self.retry = client, base_url.rstrip("/"), retry
        self.headers = {"Authorization": f"Bearer {token}"}

    async def open(
        self, calendar_id: str, channel_id: str, address: str, secret: str, expires_at: datetime
    ) -> Channel:
        body = {
            "id": channel_id,
            "type": "web_hook",
            "address": address,
            "token": secret,
            "expiration": int(expires_at.timestamp() * 1000),
        }
        url = f"{self.base_url}/calendars/{quote(calendar_id, safe='@')}/events/watch"
        response = await _call(
            "google", self.client, "POST", url, self.retry, json=body, headers=self.headers
        )
        if response.status_code != 200:
            raise PushRefused(_code(response, "google"))
        try:
            got = response.json()
            expiry = datetime.fromtimestamp(int(got["expiration"]) / 1000, UTC)
            return Channel(str(got["id"]), str(got["resourceId"]), expiry)
        except (ValueError, KeyError, TypeError):
            raise PushRefused("google: malformed channel") from None

    async def stop(self, channel_id: str, resource_id: str) -> None:
        """Best effort: an old channel left open only sends notifications we refuse."""
        body = {"id": channel_id, "resourceId": resource_id}
        url = f"{self.base_url}/channels/stop"
        try:
            await _call("google", self.client, "POST", url, self.retry, json=body, headers=self.headers)
        except PushRefused:
            return

    async def declined(self, calendar_id: str, event_id: str, owner_email: str) -> bool | None:
        """Whether the calendar's owner declined the event; None when it could not be read."""
        url = f"{self.base_url}/calendars/{quote(calendar_id, safe='@')}/events/{quote(event_id, safe='')}"
        event = await _event("google", self.client, url, self.retry, self.headers)
        if event is None:
            return None
        for person in event.get("attendees") or []:
            if not isinstance(person, dict):
                continue
            mine = person.get("self") is True or str(person.get("email", "")).lower() == owner_email.lower()
            if mine:
                return person.get("responseStatus") == "declined"
        return False


class GraphSubscriptions:
    def __init__(
        self,
        client: httpx.AsyncClient,
        token: str,
        base_url: str = "https://graph.microsoft.com/v1.0",
        retry: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.client, self.base_url, self.retry = client, base_url.rstrip("/"), retry
        self.headers = {"Authorization": f"Bearer {token}"}

    @staticmethod
    def _expiry(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")

    def _channel(self, response: httpx.Response, resource: str) -> Channel:
        try:
            got = response.json()
            return Channel(str(got["id"]), resource, _graph_instant(got["expirationDateTime"]))
        except (ValueError, KeyError, TypeError):
            raise PushRefused("graph: malformed subscription") from None

    async def open(self, mailbox: str, address: str, secret: str, expires_at: datetime) -> Channel:
        resource = f"/users/{mailbox}/events"
        body = {
            "changeType": "created,updated,deleted",
            "notificationUrl": address,
            # lifecycle notifications (subscriptionRemoved, missed, reauthorizationRequired) to the same door
            "lifecycleNotificationUrl": address,
            "resource": resource,
            "expirationDateTime": self._expiry(expires_at),
            "clientState": secret,
        }
        url = f"{self.base_url}/subscriptions"
        response = await _call("graph", self.client, "POST", url, self.retry, json=body, headers=self.headers)
        if response.status_code != 201:
            raise PushRefused(_code(response, "graph"))
        return self._channel(response, resource)

    async def renew(self, subscription_id: str, resource: str, expires_at: datetime) -> Channel:
        url = f"{self.base_url}/subscriptions/{quote(subscription_id, safe='')}"
        body = {"expirationDateTime": self._expiry(expires_at)}
        response = await _call(
            "graph", self.client, "PATCH", url, self.retry, json=body, headers=self.headers
        )
        if response.status_code != 200:
            raise PushRefused(_code(response, "graph"))
        return self._channel(response, resource)

    async def declined(self, mailbox: str, event_id: str, owner_email: str) -> bool | None:
        url = f"{self.base_url}/users/{quote(mailbox, safe='@')}/events/{quote(event_id, safe='')}"
        event = await _event("graph", self.client, url, self.retry, self.headers)
        if event is None:
            return None
        for person in event.get("attendees") or []:
            address = ((person or {}).get("emailAddress") or {}).get("address", "")
            if isinstance(address, str) and address.lower() in (owner_email.lower(), mailbox.lower()):
                return ((person.get("status") or {}).get("response")) == "declined"
        return ((event.get("responseStatus") or {}).get("response")) == "declined"
