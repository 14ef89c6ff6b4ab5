"""The reconciliation loop outlives a database error: the round is logged, the next one backs off, and the
loop keeps going (it used to end the process)."""

from __future__ import annotations

import asyncio
import contextlib
from types import SimpleNamespace

import asyncpg
import pytest
from interloop_sync.usecases import reconcile


async def test_a_database_error_in_one_round_does_not_end_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    rounds: list[str] = []

    async def all_of(conn: object, providers: object) -> list:
        rounds.append("round")
        if len(rounds) == 1:
            raise asyncpg.CannotConnectNowError("the database system is starting up")
        return []

    @contextlib.asynccontextmanager
    async def system_tx(pool: object):  # type: ignore[no-untyped-def]
        yield object()

    monkeypatch.setattr(reconcile.connections, "all_of", all_of)
    monkeypatch.setattr(reconcile, "system_tx", system_tx)
    ctx = SimpleNamespace(
        settings=SimpleNamespace(reconcile_interval_seconds=5.0),
        vault=object(),
        pool=object(),
        require_vault=lambda: object(),
    )
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(rounds) >= 3:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await reconcile.loop(ctx, sleep=sleep)  # type: ignore[arg-type]
    assert len(rounds) == 3  # the failed round, then two more
    assert waits[0] == 5.0  # the first round waits one interval, as before


async def test_no_keys_or_no_interval_disables_the_loop() -> None:
    ctx = SimpleNamespace(settings=SimpleNamespace(reconcile_interval_seconds=5.0), vault=None)
    await asyncio.wait_for(reconcile.loop(ctx), 1)  # type: ignore[arg-type]


def _connection(n: int) -> SimpleNamespace:
    return SimpleNamespace(
        id=f"c{n}", tenant_id="t", provider="greenhouse", shadow=False, credentials=b"", stage_policy={}
    )


async def test_one_failing_connection_does_not_stop_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    work = [_connection(n) for n in range(3)]
    ran: list[str] = []

    async def all_of(conn: object, providers: object) -> list:
        return work

    @contextlib.asynccontextmanager
    async def system_tx(pool: object):  # type: ignore[no-untyped-def]
        yield object()

    async def run(ctx: object, c: SimpleNamespace, **kwargs: object) -> reconcile.RunResult:
        ran.append(c.id)
        if c.id == "c0":
            raise ValueError("no key opens this connection's credentials")
        return reconcile.RunResult()

    monkeypatch.setattr(reconcile.connections, "all_of", all_of)
    monkeypatch.setattr(reconcile, "system_tx", system_tx)
    monkeypatch.setattr(reconcile, "run", run)
    ctx = SimpleNamespace(
        settings=SimpleNamespace(reconcile_page_budget=2, reconcile_time_budget_seconds=5.0),
        pool=object(),
        require_vault=lambda: object(),
    )
    assert await reconcile.reconcile_all(ctx) == 1  # type: ignore[arg-type]
    assert ran == ["c0", "c1", "c2"]


def test_a_round_budget_is_pages_and_seconds_on_an_injected_clock() -> None:
    ctx = SimpleNamespace(
        settings=SimpleNamespace(reconcile_page_budget=7, reconcile_time_budget_seconds=3.0)
    )
    budget = reconcile.Budget.of(ctx, clock=lambda: 42.0)  # type: ignore[arg-type]
    assert (budget.pages, budget.seconds, budget.clock()) == (7, 3.0, 42.0)


class _Harvest:
    """A vendor client whose pages never run out: page n links page n + 1 (or itself, when ``stuck``)."""

    def __init__(self, *, stuck: bool = False) -> None:
        self.asked: list[str | None] = []
        self.stuck = stuck

    async def changed_since(self, since: object, cursor: str | None) -> SimpleNamespace:
        self.asked.append(cursor)
        n = int(cursor or 0)
        return SimpleNamespace(items=[{"n": n}], next_cursor=str(n if self.stuck else n + 1))


def _wired(monkeypatch: pytest.MonkeyPatch, client: _Harvest, *, stored: str | None = None) -> dict:
    """``reconcile.run`` over in-memory stand-ins for its transactions, cursor row, mirror and vendor."""
    seen: dict = {"cursor": stored, "pages": 0, "errors": [], "alerts": [], "ops": [], "finished": False}

    @contextlib.asynccontextmanager
    async def tenant_tx(pool: object, tenant: str):  # type: ignore[no-untyped-def]
        yield object()

    async def start_run(conn: object, t: str, c: str, r: str, now: object) -> tuple:
        return seen["cursor"], None, now

    async def save_page(conn: object, t: str, c: str, r: str, cursor: str | None) -> int:
        seen["cursor"] = cursor
        seen["pages"] += 1
        return seen["pages"]

    async def finish_run(*args: object) -> None:
        seen["finished"] = True

    async def record_error(conn: object, t: str, c: str, r: str, why: str, abandon_run: bool = False) -> bool:
        seen["errors"].append((why, abandon_run))
        return True

    async def record_operation(
        conn: object, t: str, c: str, d: str, op: str, outcome: str, detail: str
    ) -> None:
        seen["ops"].append(outcome)

    async def alert_owner(conn: object, c: object, summary: str, detail: str) -> None:
        seen["alerts"].append(summary)

    async def apply(*args: object) -> bool:
        return True

    adapter = SimpleNamespace(has_api_access=lambda creds: True, client=lambda *a: client)
    monkeypatch.setattr(reconcile, "tenant_tx", tenant_tx)
    monkeypatch.setattr(reconcile.cursors, "start_run", start_run)
    monkeypatch.setattr(reconcile.cursors, "save_page", save_page)
    monkeypatch.setattr(reconcile.cursors, "finish_run", finish_run)
    monkeypatch.setattr(reconcile.cursors, "record_error", record_error)
    monkeypatch.setattr(reconcile.mirror, "record_operation", record_operation)
    monkeypatch.setattr(reconcile, "alert_owner", alert_owner)
    monkeypatch.setattr(reconcile, "_apply", apply)
    monkeypatch.setattr(reconcile, "token_renewer", lambda ctx, c: None)
    monkeypatch.setattr(reconcile.registry, "ats", lambda provider: adapter)
    return seen


def _ctx(max_run_pages: int = 1000) -> SimpleNamespace:
    return SimpleNamespace(
        settings=SimpleNamespace(
            consumer_max_attempts=1,
            consumer_backoff_initial_seconds=0.01,
            consumer_backoff_max_seconds=0.01,
            reconcile_max_run_pages=max_run_pages,
        ),
        pool=object(),
        http=lambda provider: None,
        require_vault=lambda: SimpleNamespace(decrypt=lambda token: {}),
    )


async def test_the_time_budget_ends_a_round_and_the_next_resumes_from_the_stored_cursor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = _Harvest()
    seen = _wired(monkeypatch, client)
    ticks = iter(range(1000))
    # each reading of the clock is a second later: a 2.5 s budget allows three pages
    budget = reconcile.Budget(pages=100, seconds=2.5, clock=lambda: float(next(ticks)))
    first = await reconcile.run(_ctx(), _connection(1), budget=budget)  # type: ignore[arg-type]
    assert not first.complete and first.fetched == 3 and first.cursor == "3"
    assert seen["cursor"] == "3" and not seen["finished"] and seen["ops"] == ["partial"]

    second = await reconcile.run(_ctx(), _connection(1), budget=reconcile.Budget(pages=2, seconds=60))  # type: ignore[arg-type]
    assert client.asked == [None, "1", "2", "3", "4"]  # resumed at page 3, never restarted
    assert second.fetched == 2 and seen["cursor"] == "5"


async def test_a_next_cursor_that_never_ends_is_cut_off_recorded_and_alerted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = _wired(monkeypatch, _Harvest())
    with pytest.raises(reconcile.RunCutOff):
        await reconcile.run(_ctx(max_run_pages=5), _connection(1))  # type: ignore[arg-type]
    assert seen["pages"] == 5
    assert seen["errors"] == [("RunCutOff: greenhouse: more than 5 pages in one run", True)]
    assert len(seen["alerts"]) == 1 and not seen["finished"]


async def test_a_vendor_repeating_the_cursor_it_was_asked_for_is_cut_off_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = _Harvest(stuck=True)
    seen = _wired(monkeypatch, client, stored="7")
    with pytest.raises(reconcile.RunCutOff):
        await reconcile.run(_ctx(), _connection(1), budget=reconcile.Budget(pages=50, seconds=60))  # type: ignore[arg-type]
    assert client.asked == ["7"] and seen["pages"] == 0
    assert seen["errors"][0][1] is True and len(seen["alerts"]) == 1
