from interloop_common.entrypoint import main

from interloop_scheduler.app import serve
from interloop_scheduler.settings import credential_ring, load
from interloop_scheduler.store.credentials import CalendarCredentials

main(
    "scheduler",
    load,
    serve,
    "interloop_scheduler",
    sealed=lambda settings: (credential_ring(settings), CalendarCredentials()),  # type: ignore[arg-type]
)
