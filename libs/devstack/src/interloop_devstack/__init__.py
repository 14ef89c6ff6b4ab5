"""The local dev stack: embedded PostgreSQL, a single-node KRaft Kafka broker and the four services,
as local processes. `make run` and the test fixtures both use it."""
