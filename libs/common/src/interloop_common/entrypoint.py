"""`python -m interloop_<svc> serve|migrate`: the same two commands for every service."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable

from pydantic import ValidationError

from interloop_common.logging import configure_logging
from interloop_common.settings import ServiceSettings


def main(name: str, load_settings: Callable[[], ServiceSettings], serve: Callable, package: str) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {package}", description=f"Interloop {name} service")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="migrate the database, then serve gRPC, the outbox relay and consumers")
    sub.add_parser("migrate", help="apply pending database migrations and exit")
    args = parser.parse_args()
    try:
        settings = load_settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        print(f"{name}: invalid setting {'.'.join(map(str, err['loc']))}: {err['msg']}", file=sys.stderr)
        raise SystemExit(2) from None
    if args.command == "migrate":
        from interloop_common.db import migrate

        configure_logging(name, settings.log_level)
        applied = migrate(settings.database_url.get_secret_value(), package)
        print(f"{name}: {applied} migration(s) applied")
        return
    try:
        asyncio.run(serve(settings))
    except KeyboardInterrupt:
        pass
