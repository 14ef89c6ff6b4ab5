"""Reliability, calibration, validity and fairness statistics over interview ratings.

Every function takes plain numpy arrays (or long-format subject/rater/score columns) and returns frozen
dataclasses; the accumulators carry JSON-serialisable state so a new scorecard updates the statistics
without re-reading a tenant's history.
"""
