"""Fake vendor servers: local HTTP servers speaking each vendor's documented request/response shapes."""
