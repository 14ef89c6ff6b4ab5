"""The door refuses text a backend cannot store or encode (NUL, lone surrogates) and integers a protobuf
int32 cannot hold, naming the field, instead of failing deep inside with a 500."""

from __future__ import annotations

import msgspec
import pytest
from interloop_gateway.domain.scheduling.schemas import InterviewerIn
from interloop_gateway.text import violations


def test_nul_and_lone_surrogates_are_named_by_their_path() -> None:
    body = {
        "name": "Ada\x00",
        "panel": [{"id": "ok"}, {"id": "\ud85a"}],
        "nested": {"deep": ["fine", "a\udc00b"]},
        "\x00key": 1,
        "fine": "Zoë 👩‍💻",
    }
    found = dict(violations(body))
    assert set(found) == {"name", "panel[1].id", "nested.deep[1]", "body"}
    assert "NUL" in found["name"] and "surrogate" in found["panel[1].id"]
    assert violations({"emoji": "👩‍💻", "n": 3, "x": None}) == []


def test_nesting_is_bounded() -> None:
    deep: object = "x"
    for _ in range(100):
        deep = [deep]
    assert violations(deep)[0][1].startswith("nests deeper than")


def test_integers_beyond_int32_are_refused_by_the_request_struct() -> None:
    ok = msgspec.json.decode(
        b'{"id": "a", "email": "a@b.c", "time_zone": "UTC", "daily_cap": 3}', type=InterviewerIn
    )
    assert ok.daily_cap == 3
    with pytest.raises(msgspec.ValidationError, match=r"daily_cap"):
        msgspec.json.decode(
            b'{"id": "a", "email": "a@b.c", "time_zone": "UTC", "daily_cap": -8589934591}', type=InterviewerIn
        )
