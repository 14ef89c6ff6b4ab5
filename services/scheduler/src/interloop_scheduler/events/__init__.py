"""What the scheduler consumes (consumer groups, topics) and the unpacking of each event into a use case;
the events it emits are built by the use cases (usecases/emit.py)."""
