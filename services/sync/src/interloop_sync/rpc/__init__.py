"""gRPC servicers of the sync service."""
