#!/bin/sh
# containerd's runc for the local node (interloop_devstack.node): some sandboxes refuse a negative
# oom_score_adj even to root, and kubelet gives every pod sandbox -998, so negatives are clamped to 0 in the
# bundle before runc reads it. A no-op where the kernel allows them (the value only ranks OOM victims).
bundle=
prev=
for arg in "$@"; do
  if [ "$prev" = "--bundle" ] || [ "$prev" = "-b" ]; then bundle=$arg; fi
  prev=$arg
done
if [ -n "$bundle" ] && [ -f "$bundle/config.json" ]; then
  sed -i -E 's/"oomScoreAdj":-[0-9]+/"oomScoreAdj":0/' "$bundle/config.json"
fi
exec runc "$@"
