from kafka import KafkaAdminClient

from streams.kafka.admin import create_topics
from streams.core.topics import all_topics


def test_topics_exist_with_their_partitions_and_creating_again_is_harmless(test_settings):
    messages = []
    create_topics(test_settings, log_fn=messages.append)  # the session created them already
    assert messages == []
    admin = KafkaAdminClient(bootstrap_servers=test_settings.bootstrap_servers)
    try:
        described = {d["name"]: len(d["partitions"]) for d in admin.describe_topics(list(all_topics(test_settings)))}
    finally:
        admin.close()
    assert described == all_topics(test_settings)
