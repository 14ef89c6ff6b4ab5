"""Request and response bodies of partners and the grants a tenant gives them."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from interloop_gateway.wire import Page, Timestamp

GrantScope = Literal["read", "schedule", "push", "subscribe"]


class PartnerOut(msgspec.Struct):
    id: str
    name: str
    # Calls per minute the partner may make (per gateway pod).
    calls_per_minute: int


class GrantIn(msgspec.Struct):
    # What the partner may do for this tenant: read interviews and scorecards, open scheduling requests,
    # push ATS changes, follow the event stream.
    scopes: Annotated[list[GrantScope], msgspec.Meta(min_length=1, max_length=4)]


class GrantOut(msgspec.Struct):
    partner_id: str
    partner_name: str
    scopes: list[str]
    granted_by: str
    granted_at: Timestamp


class GrantRevokedOut(msgspec.Struct):
    partner_id: str
    revoked: bool


PartnersPage = Page[PartnerOut]
GrantsPage = Page[GrantOut]
