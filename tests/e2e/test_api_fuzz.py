"""schemathesis against the running stack's served OpenAPI document (coverage, fuzzing and a bounded
stateful phase), with a tenant's admin key: no server error, every answer within its documented schema."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

from interloop_devstack.testing import ServiceSet

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


async def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    platform: ServiceSet, tmp_path: Path
) -> None:
    from interloop_cli.demo import create_api_key

    tenant = f"fuzz-{uuid.uuid4().hex[:8]}"
    key = await create_api_key(
        platform.dsns["gateway"], tenant_id=tenant, key=f"il_{tenant}_key", scopes=("admin",)
    )
    report = tmp_path / "report.ndjson"
    proc = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS),
        "--no-color",
        "run",
        f"{platform.base_url}/openapi/openapi.json",
        "--header",
        f"Authorization: Bearer {key}",
        "--checks",
        CHECKS,
        "--phases",
        os.environ.get("INTERLOOP_FUZZ_PHASES", "examples,coverage,fuzzing,stateful"),
        "--max-examples",
        os.environ.get("INTERLOOP_FUZZ_EXAMPLES", "15"),
        "--generation-deterministic",
        "--continue-on-failure",
        "--report-ndjson-path",
        str(report),
        cwd=tmp_path,  # schemathesis keeps its state (.schemathesis/) in the working directory
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    text = out.decode(errors="replace")
    assert proc.returncode == 0, text[-12000:]
