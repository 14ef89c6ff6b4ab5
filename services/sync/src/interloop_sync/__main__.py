from interloop_common.entrypoint import main

from interloop_sync.app import sealed, serve
from interloop_sync.settings import load

main("sync", load, serve, "interloop_sync", sealed=sealed)  # type: ignore[arg-type]
