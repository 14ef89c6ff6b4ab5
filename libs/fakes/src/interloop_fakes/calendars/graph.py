"""Fake Microsoft Graph v1.0 ``calendar/getSchedule`` (POST /v1.0/users/{id}/calendar/getSchedule and
/v1.0/me/calendar/getSchedule): Bearer auth, Graph's ``{"error": {"code", "message"}}`` envelope, at most
20 schedules and a range under 42 days per request, per-schedule ``error`` for unknown mailboxes,
scheduleItems in UTC (7 fractional digits, as Graph writes them) and an availabilityView string.

Events (vendor-contracts-2.md A7.4, A7.6): POST /v1.0/users/{id}/calendar/events (and /users/{id}/events)
-> 201 and the event, a Teams ``onlineMeeting.joinUrl`` when ``isOnlineMeeting`` with
``onlineMeetingProvider: teamsForBusiness``; a create repeating a ``transactionId`` already used in that
mailbox answers the event it created (UNCONFIRMED: Graph documents transactionId as avoiding redundant
POSTs, not its answer). PATCH /v1.0/users/{id}/events/{eventId} -> 200, DELETE -> 204, 404
``ErrorItemNotFound`` for an unknown event; an unknown mailbox is 404 ``ErrorInvalidUser``. Created events
are kept in ``events`` and do not change getSchedule (seed busy blocks with ``add_busy``).

Change notifications (A7.1-A7.3): POST /v1.0/subscriptions ``{changeType, notificationUrl, resource,
expirationDateTime, clientState, lifecycleNotificationUrl?}`` first validates notificationUrl (and the
lifecycleNotificationUrl when given): POST ``?validationToken=<token>``
(text/plain) must answer 200, ``text/plain`` and the URL-decoded token within ``validation_timeout``
seconds (10, as Graph), else 400 ``ValidationError`` and no subscription. An expiry past 4230 minutes is
refused (``max_minutes``), one under 45 minutes raised to 45 (``min_minutes``); clientState at most 128
characters. -> 201 and the subscription. PATCH /v1.0/subscriptions/{id} ``{expirationDateTime}`` renews
(404 ``ResourceNotFound`` once expired or deleted), DELETE -> 204. ``notify(mailbox, event_id)`` posts
``{"value": [{subscriptionId, subscriptionExpirationDateTime, clientState, changeType, resource,
tenantId, resourceData}]}`` to every live subscription on ``/users/{mailbox}/events``;
``lifecycle(subscription_id, event)`` sends a lifecycle notification (a delivered ``subscriptionRemoved``
removes the subscription). GET
/v1.0/users/{id}/events/{eventId} reads an event; ``respond(mailbox, event_id, email, response)`` sets an
attendee's ``status.response`` (none, accepted, tentativelyAccepted, declined, notResponded)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, delete, get, patch, post

from ..ats._server import bearer_token, json_response, parse_json_body
from ._common import FakeCalendarVendor
from ._push import Delivery, deliver, deliverable

MAX_SCHEDULES = 20
_VIEW = {"free": "0", "tentative": "1", "busy": "2", "oof": "3", "workingElsewhere": "4"}
_RANK = {"free": 0, "workingElsewhere": 1, "tentative": 2, "busy": 3, "oof": 4}


def _error(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    return json_response(
        {
            "error": {
                "code": code,
                "message": message,
                "innerError": {
                    "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                    "request-id": "00000000-0000-0000-0000-000000000000",
                },
            }
        },
        status,
        headers,
    )


def _read(value: Any) -> datetime | None:
    try:
        text, zone_name = value["dateTime"], value.get("timeZone", "UTC")
        head = str(text).split(".")[0]
        moment = datetime.fromisoformat(head)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    if zone_name != "UTC":
        return None  # the fake speaks UTC only
    return moment.replace(tzinfo=UTC)


def _instant(text: Any) -> datetime | None:
    try:
        head, _, frac = str(text).rstrip("Z").partition(".")
        moment = datetime.fromisoformat(head + (f".{frac[:6]}" if frac else ""))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _stamp_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _write(moment: datetime) -> dict[str, str]:
    return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


class FakeGraphCalendar(FakeCalendarVendor):
    provider = "microsoft-graph"

    def __init__(self, token: str = "graph-test-token") -> None:  # noqa: S107
        super().__init__()
        self.token = token
        self.events: dict[str, dict[str, dict[str, Any]]] = {}  # mailbox -> event id -> event
        self._revision = 0
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.deliveries: list[Delivery] = []
        self.validation_timeout = 10.0
        self.max_minutes, self.min_minutes = 4230, 45
        self.tenant_guid = "84bd8158-6d4d-4958-8b9f-9d6445542f95"

    # -- change notifications

    def live_subscriptions(self, resource: str | None = None) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        with self.lock:
            return [
                dict(s)
                for s in self.subscriptions.values()
                if _instant(s["expirationDateTime"]) > now  # type: ignore[operator]
                and (resource is None or s["resource"].lower() == resource.lower())
            ]

    async def _validate(self, address: str) -> bool:
        token = f"Validation: Testing client application reachability {secrets.token_hex(4)}"
        url = f"{address}{'&' if '?' in address else '?'}validationToken={quote(token)}"
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        status, answer = await deliver(url, headers, seconds=self.validation_timeout)
        with self.lock:
            self.deliveries.append(Delivery(url, headers, b"", status))
        if answer is None or status != 200:
            return False
        plain = answer.headers.get("content-type", "").split(";")[0].strip() == "text/plain"
        return plain and answer.text == token

    def _expiry(self, text: Any) -> datetime | Response:
        moment = _instant(text)
        now = datetime.now(UTC)
        if moment is None:
            return _error(400, "InvalidRequest", "expirationDateTime must be a valid date and time.")
        if moment > now + timedelta(minutes=self.max_minutes):
            return _error(
                400,
                "InvalidRequest",
                f"Subscription expiration can only be {self.max_minutes} minutes in the future.",
            )
        return max(moment, now + timedelta(minutes=self.min_minutes))

    async def _subscribe(self, body: Any) -> Response:
        if not isinstance(body, dict):
            return _error(400, "BadRequest", "Empty Payload. JSON content expected.")
        for name in ("changeType", "notificationUrl", "resource", "expirationDateTime"):
            if not isinstance(body.get(name), str) or not body[name]:
                return _error(400, "InvalidRequest", f"The property '{name}' is required.")
        if not set(body["changeType"].split(",")) <= {"created", "updated", "deleted"}:
            return _error(400, "InvalidRequest", "changeType must be created, updated and/or deleted.")
        if not deliverable(body["notificationUrl"]):
            return _error(400, "InvalidRequest", "The Notification Url must be HTTPS.")
        client_state = body.get("clientState") or ""
        if not isinstance(client_state, str) or len(client_state) > 128:
            return _error(400, "InvalidRequest", "clientState must be at most 128 characters.")
        expiry = self._expiry(body["expirationDateTime"])
        if isinstance(expiry, Response):
            return expiry
        lifecycle = body.get("lifecycleNotificationUrl")
        if lifecycle is not None and not deliverable(lifecycle):
            return _error(400, "InvalidRequest", "The Lifecycle Notification Url must be HTTPS.")
        urls = [body["notificationUrl"], *([lifecycle] if lifecycle else [])]
        if not all([await self._validate(url) for url in urls]):
            return _error(
                400,
                "ValidationError",
                "Subscription validation request failed. Notification endpoint must respond with "
                "200 OK to validation request.",
            )
        subscription = {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity",
            "id": str(uuid.uuid4()),
            "resource": body["resource"],
            "applicationId": "24d3b144-21ae-4080-943f-7067b395b913",
            "changeType": body["changeType"],
            "clientState": client_state or None,
            "notificationUrl": body["notificationUrl"],
            "lifecycleNotificationUrl": lifecycle,
            "expirationDateTime": _stamp_time(expiry),
            "creatorId": "8ee44408-0679-472c-bc2a-692812af3437",
            "latestSupportedTlsVersion": "v1_2",
        }
        with self.lock:
            self.subscriptions[subscription["id"]] = subscription
        return json_response(subscription, 201)

    def _renew(self, subscription_id: str, body: Any) -> Response:
        live = {s["id"] for s in self.live_subscriptions()}
        if subscription_id not in live:
            return _error(404, "ResourceNotFound", f"The object '{subscription_id}' doesn't exist.")
        expiry = self._expiry((body or {}).get("expirationDateTime") if isinstance(body, dict) else None)
        if isinstance(expiry, Response):
            return expiry
        with self.lock:
            self.subscriptions[subscription_id]["expirationDateTime"] = _stamp_time(expiry)
            return json_response(dict(self.subscriptions[subscription_id]))

    async def lifecycle(self, subscription_id: str, event: str) -> int:
        """A lifecycle notification (subscriptionRemoved, missed, reauthorizationRequired); its status."""
        with self.lock:
            sub = dict(self.subscriptions[subscription_id])
        item = {
            "subscriptionId": sub["id"],
            "subscriptionExpirationDateTime": sub["expirationDateTime"],
            "tenantId": self.tenant_guid,
            "clientState": sub["clientState"],
            "lifecycleEvent": event,
        }
        body = json.dumps({"value": [item]}).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        address = sub["lifecycleNotificationUrl"] or sub["notificationUrl"]
        status, _ = await deliver(address, headers, body, seconds=3.0)
        with self.lock:
            self.deliveries.append(Delivery(address, headers, body, status))
            if event == "subscriptionRemoved" and 200 <= status < 300:
                self.subscriptions.pop(subscription_id, None)
        return status

    async def notify(self, user: str, event_id: str, change_type: str = "updated") -> list[int]:
        """One notification per live subscription on the mailbox's events; the answers' statuses."""
        out = []
        for sub in self.live_subscriptions(f"/users/{user}/events"):
            path = f"Users/{user}/Events/{event_id}"
            item = {
                "id": secrets.token_urlsafe(9),
                "subscriptionId": sub["id"],
                "subscriptionExpirationDateTime": sub["expirationDateTime"],
                "clientState": sub["clientState"],
                "changeType": change_type,
                "resource": path,
                "tenantId": self.tenant_guid,
                "resourceData": {
                    "@odata.type": "#Microsoft.Graph.Event",
                    "@odata.id": path,
                    "@odata.etag": (self.events.get(user, {}).get(event_id) or {}).get("@odata.etag", ""),
                    "id": event_id,
                },
            }
            body = json.dumps({"value": [item]}).encode()
            headers = {"Content-Type": "application/json; charset=utf-8"}
            status, _ = await deliver(sub["notificationUrl"], headers, body, seconds=3.0)
            with self.lock:
                self.deliveries.append(Delivery(sub["notificationUrl"], headers, body, status))
            out.append(status)
        return out

    def respond(self, user: str, event_id: str, email: str, response: str) -> None:
        """The attendee ``email`` answers the event (as its owner accepting or declining would)."""
        with self.lock:
            event = self.events[user][event_id]
            people = [
                dict(a)
                for a in event.get("attendees") or []
                if (a.get("emailAddress") or {}).get("address", "").lower() != email.lower()
            ]
            now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
            people.append(
                {
                    "type": "required",
                    "status": {"response": response, "time": now},
                    "emailAddress": {"name": email, "address": email},
                }
            )
            event["attendees"] = people
            self._stamp(event)

    def live_events(self, user: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.events.get(user, {}).values())

    def _stamp(self, event: dict[str, Any]) -> None:
        self._revision += 1
        key = base64.b64encode(hashlib.sha256(f"{event['id']}/{self._revision}".encode()).digest()[:15])
        event["changeKey"] = key.decode()
        event["@odata.etag"] = f'W/"{key.decode()}"'
        event["lastModifiedDateTime"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")

    def _create(self, user: str, body: Any) -> Response:
        if not isinstance(body, dict):
            return _error(400, "BadRequest", "Empty Payload. JSON content expected.")
        mailbox = self.events.setdefault(user, {})
        txn = body.get("transactionId")
        if isinstance(txn, str) and txn:
            for existing in mailbox.values():
                if existing.get("transactionId") == txn:
                    return json_response(existing, 201)
        start, end = _read(body.get("start")), _read(body.get("end"))
        if start is None or end is None:
            return _error(400, "ErrorInvalidRequest", "start and end must be dateTimeTimeZone values (UTC).")
        if end <= start:
            return _error(400, "ErrorInvalidRequest", "The end time must be after the start time.")
        digest = hashlib.sha256(f"{user}/{len(mailbox)}/{txn}".encode()).digest()
        event_id = "AAMkAG" + base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=") + "AAA="
        online = (
            body.get("isOnlineMeeting") is True and body.get("onlineMeetingProvider") == "teamsForBusiness"
        )
        event: dict[str, Any] = {
            "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#users('{user}')/events/$entity",
            "id": event_id,
            "createdDateTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
            "iCalUId": "040000008200E00074C5B7101A82E008" + digest.hex()[:32].upper(),
            "isOrganizer": True,
            "type": "singleInstance",
            "subject": body.get("subject", ""),
            "body": body.get("body") or {"contentType": "text", "content": ""},
            "start": _write(start),
            "end": _write(end),
            "attendees": body.get("attendees") or [],
            "organizer": {"emailAddress": {"name": user, "address": user}},
            "onlineMeetingUrl": None,
            "isOnlineMeeting": online,
            "onlineMeetingProvider": "teamsForBusiness" if online else "unknown",
            "onlineMeeting": {
                "joinUrl": "https://teams.microsoft.com/l/meetup-join/19%3ameeting_"
                + digest.hex()[:40]
                + "%40thread.v2/0",
                "conferenceId": str(int(digest.hex()[:8], 16)),
            }
            if online
            else None,
        }
        if isinstance(txn, str) and txn:
            event["transactionId"] = txn
        self._stamp(event)
        mailbox[event_id] = event
        return json_response(event, 201)

    def _update(self, user: str, event_id: str, body: Any) -> Response:
        event = self.events.get(user, {}).get(event_id)
        if event is None:
            return _error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if not isinstance(body, dict):
            return _error(400, "BadRequest", "Empty Payload. JSON content expected.")
        changed = dict(event)
        for name in ("start", "end"):
            if name in body:
                moment = _read(body[name])
                if moment is None:
                    return _error(
                        400, "ErrorInvalidRequest", f"{name} must be a dateTimeTimeZone value (UTC)."
                    )
                changed[name] = _write(moment)
        for name in ("subject", "body", "attendees", "location"):
            if name in body:
                changed[name] = body[name]
        if _read(changed["end"]) <= _read(changed["start"]):  # type: ignore[operator]
            return _error(400, "ErrorInvalidRequest", "The end time must be after the start time.")
        self._stamp(changed)
        self.events[user][event_id] = changed
        return json_response(changed)

    def check_auth(self, request: Request) -> Response | None:
        if bearer_token(request) != self.token:
            return _error(
                401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience."
            )
        return None

    def throttle_response(self, retry_after: float | None) -> Response:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
        return _error(429, "TooManyRequests", "Too many requests.", headers)

    def failure_response(self, status: int) -> Response:
        return _error(status, "ServiceNotAvailable", "The service is temporarily unavailable.")

    def _answer(self, body: Any) -> Response:
        if not isinstance(body, dict):
            return _error(400, "BadRequest", "Empty Payload. JSON content expected.")
        schedules = body.get("schedules") or body.get("Schedules")
        start = _read(body.get("startTime") or body.get("StartTime"))
        end = _read(body.get("endTime") or body.get("EndTime"))
        if not isinstance(schedules, list) or not schedules:
            return _error(400, "ErrorInvalidParameter", "The parameter 'schedules' is required.")
        if start is None or end is None or end <= start:
            return _error(
                400, "ErrorInvalidParameter", "startTime and endTime must be valid and ordered (UTC)."
            )
        if len(schedules) > MAX_SCHEDULES:
            return _error(
                400,
                "ErrorInvalidParameter",
                f"The number of schedules requested exceeds the maximum of {MAX_SCHEDULES}.",
            )
        if end - start >= timedelta(days=42):
            return _error(
                400, "ErrorInvalidParameter", "The time period to look up must be less than 42 days."
            )
        try:
            interval = int(body.get("availabilityViewInterval", 30))
        except (TypeError, ValueError):
            return _error(400, "ErrorInvalidParameter", "availabilityViewInterval must be a number.")
        if not 5 <= interval <= 1440:
            return _error(
                400, "ErrorInvalidParameter", "availabilityViewInterval must be between 5 and 1440."
            )
        value = []
        for sid in schedules:
            sid = str(sid)
            if sid not in self.calendars:
                value.append(
                    {
                        "scheduleId": sid,
                        "availabilityView": "",
                        "error": {
                            "message": f"The mailbox {sid} was not found.",
                            "responseCode": "ErrorMailRecipientNotFound",
                        },
                    }
                )
                continue
            blocks = self.blocks(sid, start, end)
            view = []
            cursor = start
            while cursor < end:
                nxt = cursor + timedelta(minutes=interval)
                states = [b.status for b in blocks if b.start < nxt and cursor < b.end]
                view.append(_VIEW.get(max(states, key=lambda s: _RANK.get(s, 3)), "2") if states else "0")
                cursor = nxt
            value.append(
                {
                    "scheduleId": sid,
                    "availabilityView": "".join(view),
                    "scheduleItems": [
                        {
                            "isPrivate": False,
                            "status": b.status,
                            "subject": "",
                            "location": "",
                            "start": _write(b.start),
                            "end": _write(b.end),
                        }
                        for b in blocks
                    ],
                    "workingHours": {
                        "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                        "startTime": "08:00:00.0000000",
                        "endTime": "17:00:00.0000000",
                        "timeZone": {"name": "UTC"},
                    },
                }
            )
        return json_response(
            {
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)",
                "value": value,
            }
        )

    def routes(self) -> list[Any]:
        fake = self

        async def handle(request: Request) -> Response:
            broken = fake.take_malformed()
            if broken is not None:
                return broken
            body, problem = parse_json_body(await request.body())
            if problem:
                return _error(400, "BadRequest", f"Unable to read JSON request payload: {problem}")
            return fake._answer(body)

        @post("/v1.0/users/{user:str}/calendar/getSchedule", status_code=200)
        async def user_schedule(request: Request, user: str) -> Response:
            return await handle(request)

        @post("/v1.0/me/calendar/getSchedule", status_code=200)
        async def my_schedule(request: Request) -> Response:
            return await handle(request)

        def mailbox_or_404(user: str) -> Response | None:
            if user not in fake.calendars and user not in fake.events:
                return _error(404, "ErrorInvalidUser", f"The requested user '{user}' is invalid.")
            return None

        async def create(request: Request, user: str) -> Response:
            raw = await request.body()
            body, problem = parse_json_body(raw)
            if problem:
                return _error(400, "BadRequest", f"Unable to read JSON request payload: {problem}")
            with fake.lock:
                answer = mailbox_or_404(user) or fake._create(user, body)
            if answer.status_code == 201:
                fake._record_write(request, raw)
            return answer

        @post("/v1.0/users/{user:str}/calendar/events", status_code=201)
        async def create_in_calendar(request: Request, user: str) -> Response:
            return await create(request, user)

        @post("/v1.0/users/{user:str}/events", status_code=201)
        async def create_event(request: Request, user: str) -> Response:
            return await create(request, user)

        @patch("/v1.0/users/{user:str}/events/{event_id:str}", status_code=200)
        async def update_event(request: Request, user: str, event_id: str) -> Response:
            raw = await request.body()
            body, problem = parse_json_body(raw)
            if problem:
                return _error(400, "BadRequest", f"Unable to read JSON request payload: {problem}")
            with fake.lock:
                answer = mailbox_or_404(user) or fake._update(user, event_id, body)
            if answer.status_code == 200:
                fake._record_write(request, raw)
            return answer

        @delete("/v1.0/users/{user:str}/events/{event_id:str}", status_code=200)  # the Response carries 204
        async def delete_event(request: Request, user: str, event_id: str) -> Response:
            with fake.lock:
                missing = mailbox_or_404(user)
                if missing is not None:
                    return missing
                if fake.events.get(user, {}).pop(event_id, None) is None:
                    return _error(
                        404, "ErrorItemNotFound", "The specified object was not found in the store."
                    )
            fake._record_write(request, b"")
            return Response(content=b"", status_code=200)  # the Response carries 204

        @post("/v1.0/subscriptions", status_code=201)
        async def create_subscription(request: Request) -> Response:
            body, problem = parse_json_body(await request.body())
            if problem:
                return _error(400, "BadRequest", f"Unable to read JSON request payload: {problem}")
            return await fake._subscribe(body)

        @patch("/v1.0/subscriptions/{subscription_id:str}", status_code=200)
        async def renew_subscription(request: Request, subscription_id: str) -> Response:
            body, problem = parse_json_body(await request.body())
            if problem:
                return _error(400, "BadRequest", f"Unable to read JSON request payload: {problem}")
            return fake._renew(subscription_id, body)

        @delete("/v1.0/subscriptions/{subscription_id:str}", status_code=200)  # the Response carries 204
        async def delete_subscription(subscription_id: str) -> Response:
            with fake.lock:
                if fake.subscriptions.pop(subscription_id, None) is None:
                    return _error(404, "ResourceNotFound", f"The object '{subscription_id}' doesn't exist.")
            return Response(content=b"", status_code=204)

        @get("/v1.0/users/{user:str}/events/{event_id:str}", status_code=200)
        async def get_event(user: str, event_id: str) -> Response:
            with fake.lock:
                missing = mailbox_or_404(user)
                if missing is not None:
                    return missing
                event = fake.events.get(user, {}).get(event_id)
                if event is None:
                    return _error(
                        404, "ErrorItemNotFound", "The specified object was not found in the store."
                    )
                return json_response(event)

        return [
            user_schedule,
            my_schedule,
            create_in_calendar,
            create_event,
            update_event,
            delete_event,
            create_subscription,
            renew_subscription,
            delete_subscription,
            get_event,
        ]
