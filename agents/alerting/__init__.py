"""Alerting: rules from YAML, a per-entity state machine, and (at the edges) delivery."""
