"""gRPC servicers of the scorecard service."""
