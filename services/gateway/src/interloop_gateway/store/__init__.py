"""asyncpg queries of the gateway: tenants, API keys, idempotency keys, audit log."""
