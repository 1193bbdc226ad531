"""Faust agents (``agents.workers``) and the pure indicator logic they call."""
