import sys

from interloop_common.entrypoint import main

from interloop_sync.app import serve
from interloop_sync.settings import load

if len(sys.argv) > 1 and sys.argv[1] == "rotate-credentials":
    from interloop_sync.rotate import main as rotate

    rotate(sys.argv[2:])
else:
    main("sync", load, serve, "interloop_sync")
