from interloop_common.entrypoint import main
from interloop_sync.app import serve
from interloop_sync.settings import load

main("sync", load, serve, "interloop_sync")
