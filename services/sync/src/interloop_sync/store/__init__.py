"""asyncpg queries of the sync service; tenant_id in every WHERE."""
