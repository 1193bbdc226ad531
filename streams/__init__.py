"""Kafka side of the IOC monitor: settings, topics, event contracts, validation, sinks, CLI."""
