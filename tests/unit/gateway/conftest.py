"""The gateway's app, built once per module without starting it (no database, no backends), and its route
table as (method, path, handler) rows."""

from __future__ import annotations

import pytest
from interloop_gateway.app import create_app
from interloop_gateway.settings import GatewaySettings
from litestar import Litestar
from litestar.routes import HTTPRoute


@pytest.fixture(scope="module")
def app() -> Litestar:
    return create_app(GatewaySettings(database_url="postgresql://unused/unused"))


@pytest.fixture(scope="module")
def routes(app: Litestar) -> list[tuple[str, str, object]]:
    return [
        (method, route.path, handler)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        for method in handler.http_methods
    ]
