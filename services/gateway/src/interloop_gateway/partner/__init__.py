"""The partner gRPC API for ATS vendors."""
