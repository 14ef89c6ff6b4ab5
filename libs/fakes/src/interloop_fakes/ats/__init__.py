"""Fake ATS/HRIS vendor servers (Greenhouse Harvest, Lever, Workday, BambooHR) and a signed-webhook sender.

with FakeGreenhouse() as gh:           # serves on http://127.0.0.1:<free port>
    gh.seed_candidates(5)
    gh.rate_limit_next(1, retry_after=2)
    ... GreenhouseHarvest(client, GreenhouseConfig(base_url=gh.base_url, api_key=gh.api_key)) ...
    assert len(gh.writes_to("/activity_feed/notes")) == 1
"""

from ._server import FakeVendor, RecordedRequest
from .bamboohr import FakeBambooHR
from .greenhouse import FakeGreenhouse
from .lever import FakeLever
from .webhooks import SignedWebhook, deliver, deliver_async, sign_greenhouse, sign_lever
from .workday import GREENHOUSE_HIRE_MAPPING, FakeWorkday

__all__ = [
    "FakeBambooHR",
    "FakeGreenhouse",
    "FakeLever",
    "FakeVendor",
    "FakeWorkday",
    "GREENHOUSE_HIRE_MAPPING",
    "RecordedRequest",
    "SignedWebhook",
    "deliver",
    "deliver_async",
    "sign_greenhouse",
    "sign_lever",
]
