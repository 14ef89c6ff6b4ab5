"""Scheduling logic with no I/O: interval algebra, panel availability, loop planning, ICS invites,
booking policy and scheduling-link tokens. Everything takes plain data and returns plain data."""
