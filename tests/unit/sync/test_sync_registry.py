"""The vendor registry: every registered provider has an adapter that satisfies its kind's protocol (and
builds a client that satisfies the client protocol from just the credentials and settings it requires), and
no code outside the registry switches on a provider's name."""

from __future__ import annotations

import ast
import inspect
import sys
import types
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import httpx
import interloop_sync
import pytest
from interloop_sync.domain.credentials import Credentials, Secret
from interloop_sync.store.connections import Connection
from interloop_sync.vendors import registry
from interloop_sync.vendors.ats import AtsAdapter, AtsClient
from interloop_sync.vendors.hris import HrisAdapter, HrisClient

SRC = Path(interloop_sync.__file__).parent
REGISTRY = SRC / "vendors" / "registry.py"
NOW = datetime(2026, 1, 5, tzinfo=UTC)
PROTOCOLS = {"ats": (AtsAdapter, AtsClient), "hris": (HrisAdapter, HrisClient)}


def _members(protocol: type) -> dict[str, Any]:
    """The protocol's own members and its base protocols' (name -> property or function)."""
    found: dict[str, Any] = {}
    for cls in reversed(protocol.__mro__):
        if cls is object or not getattr(cls, "_is_protocol", False) or cls.__module__ == "typing":
            continue
        found.update({k: v for k, v in vars(cls).items() if not k.startswith("_")})
    return found


def _conforms(value: Any, hint: Any) -> bool:
    origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        return value in args
    if origin in (Union, types.UnionType):
        return any(_conforms(value, a) for a in args)
    if origin is tuple:  # tuple[X, ...]
        return isinstance(value, tuple) and all(isinstance(v, args[0]) for v in value)
    if hint is type(None):
        return value is None
    return isinstance(value, hint)


def _shape(fn: Any) -> tuple[bool, list[tuple[str, Any]]]:
    params = list(inspect.signature(fn).parameters.values())
    if params and params[0].name == "self":
        params = params[1:]
    return inspect.iscoroutinefunction(fn), [(p.name, p.kind) for p in params]


def _violations(obj: Any, protocol: type) -> list[str]:
    out = []
    for name, member in _members(protocol).items():
        if not hasattr(obj, name):
            out.append(f"{name}: missing")
        elif isinstance(member, property):
            hint = get_type_hints(member.fget)["return"]
            if not _conforms(getattr(obj, name), hint):
                out.append(f"{name}: {getattr(obj, name)!r} is not a {hint}")
        elif _shape(getattr(obj, name)) != _shape(member):
            out.append(f"{name}: {_shape(getattr(obj, name))} differs from {_shape(member)}")
    return out


@pytest.mark.parametrize("provider", registry.providers())
async def test_every_registered_provider_has_an_adapter_satisfying_its_protocol(provider: str) -> None:
    adapter = registry.adapter(provider)
    assert adapter is not None and adapter.provider == provider
    assert adapter.kind in PROTOCOLS, f"{provider}: kind {adapter.kind!r}"
    adapter_protocol, client_protocol = PROTOCOLS[adapter.kind]
    assert isinstance(adapter, adapter_protocol)
    assert _violations(adapter, adapter_protocol) == []

    # A connection with exactly what the adapter says it requires is enough to build its client.
    c = Connection(
        tenant_id="t",
        id=str(uuid.uuid4()),
        provider=provider,
        mode="active",
        owner="owner@acme.test",
        base_url="https://vendor.test" if adapter.base_url_required else "",
        credentials=b"",
        created_at=NOW,
        settings=dict.fromkeys(adapter.required_settings, "configured"),
    )
    creds = Credentials(provider, {name: Secret("s3cret") for name in adapter.required_credentials})
    async with httpx.AsyncClient() as http:
        client = adapter.client(http, c, creds)
    assert isinstance(client, client_protocol)
    assert _violations(client, client_protocol) == []


def test_providers_are_partitioned_by_kind_in_registration_order() -> None:
    ats, hris = registry.providers("ats"), registry.providers("hris")
    assert ats and hris and not set(ats) & set(hris)
    assert sorted(ats + hris, key=registry.providers().index) == list(registry.providers())
    assert registry.providers() == tuple(registry.ADAPTERS)
    for provider in ats:
        assert registry.ats(provider) is registry.adapter(provider)
        with pytest.raises(ValueError, match="not an HRIS provider"):
            registry.hris(provider)
    for provider in hris:
        assert registry.hris(provider) is registry.adapter(provider)
        with pytest.raises(ValueError, match="not an ATS provider"):
            registry.ats(provider)
    assert registry.adapter("icims") is None and registry.kind("icims") is None


@pytest.mark.parametrize("provider", registry.providers("ats"))
def test_an_ats_connection_cannot_be_created_without_its_webhook_signing_secret(provider: str) -> None:
    adapter = registry.ats(provider)
    assert adapter.signing_credential in adapter.required_credentials


def test_a_webhook_finds_its_adapter_only_for_an_ats_connection_of_the_same_provider() -> None:
    def conn(provider: str) -> Connection:
        return Connection("t", str(uuid.uuid4()), provider, "active", "o@acme.test", "", b"", NOW)

    ats, other_ats = registry.providers("ats")[:2]
    hris = registry.providers("hris")[0]
    assert registry.webhook_adapter(ats, conn(ats)) is registry.ats(ats)
    assert registry.webhook_adapter(ats, conn(other_ats)) is None
    assert registry.webhook_adapter(hris, conn(hris)) is None
    assert registry.webhook_adapter(ats, None) is None


# ---- no provider switches outside the registry ---------------------------------------------------------

SWITCH_OPS = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)


def _is_provider(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "provider") or (
        isinstance(node, ast.Attribute) and node.attr == "provider"
    )


def _switches(source: str) -> list[int]:
    """Lines comparing a ``provider`` (name or attribute) with ==, !=, in, not in, or matching on one."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            if any(isinstance(op, SWITCH_OPS) for op in node.ops) and any(
                _is_provider(o) for o in (node.left, *node.comparators)
            ):
                lines.append(node.lineno)
        elif isinstance(node, ast.Match) and _is_provider(node.subject):
            lines.append(node.lineno)
    return lines


def test_the_switch_detector_sees_every_form() -> None:
    assert _switches("if c.provider == 'lever': pass") == [1]
    assert _switches("x = provider != 'workday'") == [1]
    assert _switches("ok = c.provider in ('a', 'b')") == [1]
    assert _switches("ok = 'a' not in provider") == [1]
    assert _switches("match c.provider:\n    case 'a': pass") == [1]
    assert _switches("adapter = registry.ats(c.provider)\nif adapter.kind == 'ats': pass") == []


def test_no_provider_comparison_outside_the_registry() -> None:
    found = [
        f"{file.relative_to(SRC)}:{line}"
        for file in sorted(SRC.rglob("*.py"))
        if file != REGISTRY
        for line in _switches(file.read_text())
    ]
    assert not found, f"switch on a provider's name outside vendors/registry.py: {found}"


def test_only_a_vendors_own_adapter_module_names_it() -> None:
    homes = {}
    for provider, adapter in registry.ADAPTERS.items():
        module = Path(sys.modules[type(adapter).__module__].__file__ or "")
        homes[provider] = module.parent if module.name == "__init__.py" else module
    found = []
    for file in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Constant) and node.value in homes:
                home = homes[node.value]
                if file != home and home not in file.parents:
                    found.append(f"{file.relative_to(SRC)}:{node.lineno} names {node.value!r}")
    assert not found, found
