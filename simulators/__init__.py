"""Simulated feeds, recording, replay and drills.  Simulators take a random generator, a
clock and a ``send`` callable, so the same code produces to Kafka, to a file or to a list."""
