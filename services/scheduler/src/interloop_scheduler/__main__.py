from interloop_common.entrypoint import main

from interloop_scheduler.app import serve
from interloop_scheduler.settings import load

main("scheduler", load, serve, "interloop_scheduler")
