from interloop_common.entrypoint import main

from interloop_gateway.app import serve
from interloop_gateway.settings import load

main("gateway", load, serve, "interloop_gateway")
