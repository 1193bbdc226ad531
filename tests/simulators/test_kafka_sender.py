"""The simulator's producer: what a write to a three-broker cluster needs to survive a broker."""
import pytest

pytestmark = pytest.mark.integration


def test_the_simulator_s_producer_waits_for_every_in_sync_replica_and_writes_a_retried_batch_once(producer):
    config = producer.producer.config
    assert config["acks"] == -1  # all: min.insync.replicas of the replicas at least
    assert config["enable_idempotence"] is True
    assert config["delivery_timeout_ms"] >= 60_000  # outlives a leader election
