"""Events the scheduler emits (through the outbox) and consumes."""
