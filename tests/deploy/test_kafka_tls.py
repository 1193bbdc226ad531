"""The compose file's Kafka security, run for real: a broker with kafka-1's settings, reached by the
IOC's clients over SASL_SSL with settings read from files.

The broker is the stack's Kafka (same version as the apache/kafka image) started on free ports with
the compose service's KAFKA_* variables turned into server.properties the way the image does it;
only host names, ports, paths and replication (one node) are changed.  Certificates and passwords
come from deploy/production/make-secrets.sh.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from simulators.kafka import KafkaSender
from streams.kafka.admin import create_topics
from agents.worker.app import create_app
from streams.core.errors import BrokerError
from streams.core.settings import Settings
from tests.conftest import ROOT
from tests.support import free_port, stop_process, wait_for

pytestmark = pytest.mark.integration
LIBS = Path(os.environ.get("IOC_RUN_DIR") or ROOT / ".run") / "kafka" / "libs"  # as deploy/stack.sh
NOT_PROPERTIES = {"KAFKA_OPTS", "KAFKA_HEAP_OPTS"}


def _properties(env: dict[str, str]) -> dict[str, str]:
    """KAFKA_FOO_BAR -> foo.bar (and __ -> _, ___ -> -), as the apache/kafka image's start script does."""
    props = {}
    for key, value in env.items():
        if key.startswith("KAFKA_") and key not in NOT_PROPERTIES:
            name = key[6:].lower().replace("___", "-").replace("__", "\0").replace("_", ".").replace("\0", "_")
            props[name] = str(value)
    return props


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory, stack):
    if not list(LIBS.glob("kafka_2.13-*.jar")) or not shutil.which("java"):
        pytest.fail("Kafka jars not installed: run deploy/stack.sh install kafka")
    d = tmp_path_factory.mktemp("kafka-tls")
    subprocess.run(["bash", str(ROOT / "deploy/production/make-secrets.sh"), str(d / "secrets")], check=True,
                   capture_output=True, timeout=120, env={"PATH": os.environ["PATH"], "EXTRA_SAN": "DNS:localhost"})
    compose = yaml.safe_load((ROOT / "deploy/production/compose.yaml").read_text())
    service = compose["services"]["kafka-1"]
    props = _properties(service["environment"])
    client, controller, broker = free_port(), free_port(), free_port()
    secrets = d / "secrets"
    for key, value in list(props.items()):  # the container's /run/secrets/ is our folder
        props[key] = value.replace("/run/secrets/", f"{secrets}/")
    props.update({
        "controller.quorum.voters": f"1@localhost:{controller}",
        "listeners": f"CLIENT://localhost:{client},CONTROLLER://localhost:{controller},BROKER://localhost:{broker}",
        "advertised.listeners": f"CLIENT://localhost:{client},BROKER://localhost:{broker}",
        "log.dirs": str(d / "data"),
        "default.replication.factor": "1", "min.insync.replicas": "1", "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1", "transaction.state.log.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
    })
    assert props["listener.security.protocol.map"] == "CLIENT:SASL_SSL,CONTROLLER:SSL,BROKER:SSL"
    (d / "server.properties").write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    jaas = service["environment"]["KAFKA_OPTS"].replace("/run/secrets/", f"{secrets}/")
    java = ["java", "-cp", f"{LIBS}/*", f"-Dlog4j.configuration=file:{ROOT}/deploy/kafka/tools-log4j.properties"]
    subprocess.run([*java, "kafka.tools.StorageTool", "format", "-t", service["environment"]["CLUSTER_ID"].split(":-")[-1]
                    .rstrip("}"), "-c", str(d / "server.properties")], check=True, capture_output=True, timeout=120)
    log = open(d / "kafka.log", "ab")
    proc = subprocess.Popen(["java", "-Xms128m", "-Xmx384m", *jaas.split(), "-cp", f"{LIBS}/*",
                             f"-Dlog4j.configuration=file:{ROOT}/deploy/kafka/tools-log4j.properties",
                             "kafka.Kafka", str(d / "server.properties")], stdout=log, stderr=subprocess.STDOUT)
    settings = Settings(kafka_bootstrap=f"localhost:{client}", kafka_security_protocol="SASL_SSL",
                        kafka_sasl_mechanism="PLAIN", kafka_sasl_username="ioc",
                        kafka_sasl_password=(secrets / "kafka_ioc_password").read_text().strip(),
                        kafka_ssl_cafile=str(secrets / "ca.crt"), topic_prefix=f"tls{uuid.uuid4().hex[:6]}.",
                        topic_partitions=1)
    try:
        def up():
            assert proc.poll() is None, (d / "kafka.log").read_text()[-3000:]
            try:
                create_topics(settings, timeout_s=5, log_fn=lambda *_: None)
                return True
            except BrokerError:
                return False

        wait_for(up, timeout=90, interval=1, what="the TLS broker to accept the IOC's admin client")
        yield settings, secrets
    finally:
        stop_process(proc)
        log.close()


def test_ioc_clients_speak_sasl_ssl_to_the_compose_broker_configuration(tls_broker, monkeypatch):
    settings, secrets = tls_broker
    # the password read from its file, as in the containers
    for key in [k for k in os.environ if k.startswith("IOC_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("IOC_KAFKA_SASL_PASSWORD_FILE", str(secrets / "kafka_ioc_password"))
    from_files = Settings(**settings.model_dump(exclude={"kafka_sasl_password"}))
    assert from_files.kafka_sasl_password.get_secret_value() == settings.kafka_sasl_password.get_secret_value()

    sender = KafkaSender(from_files)  # kafka-python
    sender("health", "gis", b'{"tls": true}')
    sender.close()

    async def consume():  # aiokafka, with exactly the arguments Faust derives from the app's credentials
        auth = credentials_to_aiokafka_auth(create_app(from_files).conf.broker_credentials)
        assert auth["security_protocol"] == "SASL_SSL"
        consumer = AIOKafkaConsumer(f"{settings.topic_prefix}health", bootstrap_servers=settings.kafka_bootstrap,
                                    auto_offset_reset="earliest", group_id=None, **auth)
        await consumer.start()
        try:
            return (await asyncio.wait_for(consumer.getone(), 30)).value
        finally:
            await consumer.stop()

    assert asyncio.run(consume()) == b'{"tls": true}'


def test_a_wrong_password_or_no_tls_is_refused(tls_broker):
    settings, _ = tls_broker
    wrong = settings.model_copy(update={"kafka_sasl_password": type(settings.kafka_sasl_password)("wrong")})
    plain = Settings(kafka_bootstrap=settings.kafka_bootstrap, topic_prefix=settings.topic_prefix)

    async def connect(s: Settings) -> None:
        auth = credentials_to_aiokafka_auth(create_app(s).conf.broker_credentials)
        producer = AIOKafkaProducer(bootstrap_servers=s.kafka_bootstrap, request_timeout_ms=5000,
                                    metadata_max_age_ms=5000, **auth)
        try:
            await asyncio.wait_for(producer.start(), 20)
        finally:
            await producer.stop()

    for refused in (wrong, plain):
        with pytest.raises((KafkaError, asyncio.TimeoutError)):
            asyncio.run(connect(refused))
