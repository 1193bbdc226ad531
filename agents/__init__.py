"""Faust agents (``agents.worker.workers``) and the pure indicator logic they call."""
