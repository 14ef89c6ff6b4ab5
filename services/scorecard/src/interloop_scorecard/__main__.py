from interloop_common.entrypoint import main

from interloop_scorecard.app import serve
from interloop_scorecard.settings import load

main("scorecard", load, serve, "interloop_scorecard")
