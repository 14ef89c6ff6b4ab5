"""Fake vendor servers for the sync adapter contract tests (one server per module, state is per test data)."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from interloop_fakes.ats import FakeBambooHR, FakeGreenhouse, FakeLever, FakeWorkday


def _serve(fake):  # type: ignore[no-untyped-def]
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="module")
def greenhouse() -> Iterator[FakeGreenhouse]:
    yield from _serve(FakeGreenhouse())


@pytest.fixture(scope="module")
def lever() -> Iterator[FakeLever]:
    yield from _serve(FakeLever())


@pytest.fixture(scope="module")
def workday() -> Iterator[FakeWorkday]:
    yield from _serve(
        FakeWorkday(
            organizations={"ORG-ENG", "ORG-SALES", "ORG-OPS"},
            locations={"LOC-NYC", "LOC-LON", "LOC-STL"},
            # each organisation's Manager role: who Get_Workers names as a hire's manager
            managers={"ORG-ENG": "456DEF", "ORG-SALES": "E-8", "ORG-OPS": "E-9"},
        )
    )


@pytest.fixture(scope="module")
def bamboohr() -> Iterator[FakeBambooHR]:
    yield from _serve(FakeBambooHR())


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client
