"""The scorecard service's use cases, one module per aggregate: each one tenant transaction (store + domain
+ the events it announces), raising ``interloop_common.errors`` for refusals. rpc/ and events/ only unpack
and call them."""

SOURCE = "//interloop/scorecard"
