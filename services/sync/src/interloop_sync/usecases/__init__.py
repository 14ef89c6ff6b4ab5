"""The sync service's use cases, one module per aggregate: each is one tenant transaction (store + domain +
the events it stages in the outbox). rpc/ and events/ only unpack their input and call them."""

SOURCE = "//interloop/sync"
