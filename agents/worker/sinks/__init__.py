"""Sinks: where validated, de-duplicated batches are written.

``base`` holds the table descriptions (pure data) and the in-memory sink used by tests;
``timescale`` is the only module that talks to TimescaleDB from the worker.
"""
