"""Sinks: where validated, de-duplicated batches are written.

``base`` holds the table descriptions (pure data) and the in-memory sink used by tests;
``timescale`` writes them to TimescaleDB (the worker's housekeeping and detectors have their own
modules, ``agents.worker.housekeeping`` and ``agents.worker.detectors``, on the same pool).
"""
