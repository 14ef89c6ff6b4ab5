"""The recruiting dashboard: one static page that reads the tenant's REST API with the user's key."""

from __future__ import annotations

from importlib import resources

from litestar import Controller, Response, get

_PAGE = resources.files(__package__).joinpath("page.html")


class DashboardController(Controller):
    tags = ["pages"]

    @get("/dashboard", summary="Recruiting dashboard (HTML)", include_in_schema=False)
    async def dashboard(self) -> Response:
        return Response(
            _PAGE.read_text(encoding="utf-8"),
            media_type="text/html",
            headers={
                "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; "
                "script-src 'unsafe-inline'; frame-ancestors 'none'",
                "Cache-Control": "no-store",
            },
        )


CONTROLLERS: list[type] = [DashboardController]
