"""`python -m interloop_<svc> serve|migrate`: the same two commands for every service."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from urllib.parse import urlsplit

from pydantic import ValidationError

from interloop_common.db import PrivilegedRole, SchemaNotCurrent, migrate, wait_schema_current
from interloop_common.keyring import KeyRing, KeysUnavailable, Rotation, SealedColumns, rotate_all
from interloop_common.logging import configure_logging
from interloop_common.settings import ServiceSettings


def main(
    name: str,
    load_settings: Callable[[], ServiceSettings],
    serve: Callable,
    package: str,
    *,
    sealed: Callable[[ServiceSettings], tuple[KeyRing, SealedColumns]] | None = None,
) -> None:
    """``sealed`` gives the service's key ring and sealed columns: it adds ``rotate-credentials``."""
    parser = argparse.ArgumentParser(prog=f"python -m {package}", description=f"Interloop {name} service")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="migrate the database, then serve gRPC, the outbox relay and consumers")
    mig = sub.add_parser("migrate", help="apply pending database migrations and exit")
    mig.add_argument(
        "--check", action="store_true", help="apply nothing: exit 0 if the schema is current, else 1"
    )
    mig.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="SECONDS",
        help="with --check, wait up to SECONDS for the schema to become current (another process migrating); "
        "without, how long to wait for another migrator's lock (default 600)",
    )
    replay = sub.add_parser(
        "replay-dead-letters", help="republish a tenant's open dead letters to their topics"
    )
    replay.add_argument("--tenant", required=True, help="tenant whose dead letters to replay")
    replay.add_argument("--id", action="append", default=[], help="only these dead-letter ids (repeatable)")
    if sealed is not None:
        sub.add_parser(
            "rotate-credentials",
            help="re-seal every stored credential under the newest key (put the new key first, run this, "
            "then drop the old keys)",
        )
    args = parser.parse_args()
    try:
        settings = load_settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        print(f"{name}: invalid setting {'.'.join(map(str, err['loc']))}: {err['msg']}", file=sys.stderr)
        raise SystemExit(2) from None
    if args.command == "migrate":
        configure_logging(name, settings.log_level)
        dsn = settings.database_url.get_secret_value()
        if args.check:
            try:
                wait_schema_current(dsn, package, wait_seconds=args.wait)
            except SchemaNotCurrent as exc:
                print(f"{name}: {exc}", file=sys.stderr)
                raise SystemExit(1) from None
            print(f"{name}: schema current")
            return
        runtime = settings.runtime_database_url.get_secret_value()
        grant_to = urlsplit(runtime).username or "" if runtime else ""
        applied = migrate(dsn, package, wait_seconds=args.wait or 600, grant_to=grant_to)
        print(f"{name}: {applied} migration(s) applied")
        return
    if args.command == "replay-dead-letters":
        replayed = asyncio.run(_replay(settings, args.tenant, args.id))
        print(f"{name}: {replayed} dead letter(s) replayed for tenant {args.tenant}")
        return
    if args.command == "rotate-credentials" and sealed is not None:
        try:
            report = asyncio.run(_rotate(settings, *sealed(settings)))
        except KeysUnavailable as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        for label in report.failed:
            print(f"{name}: {label} does not open with any key", file=sys.stderr)
        print(
            f"{name}: {report.rotated} credential(s) re-sealed under the newest key, "
            f"{len(report.failed)} failed"
        )
        raise SystemExit(1 if report.failed else 0)
    try:
        asyncio.run(serve(settings))
    except KeyboardInterrupt:
        pass
    except (PrivilegedRole, SchemaNotCurrent) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


async def _replay(settings: ServiceSettings, tenant: str, ids: list[str]) -> int:
    from interloop_common import db, kafka
    from interloop_common.inbox import replay_dead_letters

    pool = await db.create_pool(settings.database_url.get_secret_value(), min_size=1, max_size=2)
    kafka.set_security(settings)
    producer = kafka.make_producer(
        settings.kafka_bootstrap_servers, client_id=f"{settings.service_name}-replay"
    )
    await producer.start()
    try:
        return await replay_dead_letters(pool, producer, tenant_id=tenant, ids=ids or None)
    finally:
        await producer.stop()
        await pool.close()


async def _rotate(settings: ServiceSettings, ring: KeyRing, columns: SealedColumns) -> Rotation:
    from interloop_common import db

    if not ring.configured:  # say so before reaching for the database
        ring.seal("")
    pool = await db.create_pool(settings.database_url.get_secret_value(), min_size=1, max_size=2)
    try:
        return await rotate_all(pool, ring, columns)
    finally:
        await pool.close()
