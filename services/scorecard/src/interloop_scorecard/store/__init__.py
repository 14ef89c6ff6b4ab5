"""asyncpg queries of the scorecard service; tenant_id in every WHERE."""
