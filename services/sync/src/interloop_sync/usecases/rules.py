"""Automation rules a tenant writes (DSL or JSON), with the email templates they name."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import asyncpg
from interloop_common.db import tenant_tx
from interloop_common.errors import FieldViolations

from interloop_sync.domain.automations import EmailTemplate, EmailTemplateError, EmailTemplates, RuleError
from interloop_sync.store import automations as store
from interloop_sync.usecases import Page, page_of
from interloop_sync.usecases.context import SyncContext


async def create_rule(
    ctx: SyncContext,
    tenant_id: str,
    *,
    source: dict[str, Any],
    rule_id: str,
    disabled: bool,
    templates: dict[str, EmailTemplate],
) -> asyncpg.Record:
    """Store the rule (``source``: ``{"dsl": …}`` or ``{"json": …}``) and the templates it brings; a rule may
    name those and the tenant's stored templates. The same id again replaces the rule."""
    async with tenant_tx(ctx.pool, tenant_id) as conn:
        known = await store.templates(conn, tenant_id)
        try:
            EmailTemplates(templates)
        except EmailTemplateError as exc:
            raise FieldViolations([(f"templates.{exc.template}", exc.reason)]) from None
        try:
            rule = store.rule_of(source, rule_id or None, templates=set(known) | set(templates))  # type: ignore[arg-type]
        except RuleError as exc:
            raise FieldViolations([("rule.dsl" if "dsl" in source else "rule.json", str(exc))]) from None
        if disabled:
            rule = replace(rule, enabled=False)
        for name, t in templates.items():
            await store.put_template(conn, tenant_id, name, t)
        row = await store.insert_rule(conn, tenant_id, rule, source)
    ctx.cache.rules_changed(tenant_id)
    return row


async def list_rules(pool: asyncpg.Pool, tenant_id: str, *, after: str, limit: int) -> Page[asyncpg.Record]:
    async with tenant_tx(pool, tenant_id) as conn:
        return page_of(await store.list_rules(conn, tenant_id, after=after, limit=limit + 1), limit)
