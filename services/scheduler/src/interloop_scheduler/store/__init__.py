"""asyncpg queries of the scheduler; every statement filters by tenant_id (RLS is the backstop)."""
