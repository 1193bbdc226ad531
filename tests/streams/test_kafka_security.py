"""Kafka TLS/SASL client configuration from Settings, for Faust (aiokafka) and kafka-python."""
from __future__ import annotations

import ssl
import subprocess

import faust
import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import ValidationError

from agents.worker.app import create_app
from streams.core.errors import ConfigError
from streams.kafka.security import describe, faust_credentials, kafka_python_config, ssl_context
from streams.core.settings import Settings


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, and a client certificate it signed (openssl, as deploy/production/make-secrets.sh does)."""
    d = tmp_path_factory.mktemp("pki")

    def run(*args):
        subprocess.run(args, check=True, capture_output=True, cwd=d, timeout=60)

    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
        "-days", "2", "-subj", "/CN=test CA")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.csr",
        "-subj", "/CN=ioc")
    run("openssl", "x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-out", "client.crt")
    return d


def test_plaintext_is_the_default_and_adds_nothing():
    s = Settings()
    assert s.kafka_security_protocol == "PLAINTEXT"
    assert faust_credentials(s) is None
    assert kafka_python_config(s) == {"security_protocol": "PLAINTEXT"}
    assert credentials_to_aiokafka_auth(create_app(s).conf.broker_credentials) == {"security_protocol": "PLAINTEXT"}


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "scram_sha_512"])
def test_sasl_ssl_for_both_client_libraries(pki, mechanism):
    s = Settings(kafka_security_protocol="sasl_ssl", kafka_sasl_mechanism=mechanism, kafka_sasl_username="ioc",
                 kafka_sasl_password="pw", kafka_ssl_cafile=str(pki / "ca.crt"))
    want = mechanism.upper().replace("_", "-")
    conf = kafka_python_config(s)
    assert conf["security_protocol"] == "SASL_SSL"
    assert (conf["sasl_mechanism"], conf["sasl_plain_username"], conf["sasl_plain_password"]) == (want, "ioc", "pw")
    ctx = conf["ssl_context"]
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    # Faust: the app's credentials become exactly these aiokafka arguments
    creds = create_app(s).conf.broker_credentials
    assert isinstance(creds, faust.SASLCredentials)
    auth = credentials_to_aiokafka_auth(creds)
    assert (auth["security_protocol"], auth["sasl_mechanism"], auth["sasl_plain_username"],
            auth["sasl_plain_password"]) == ("SASL_SSL", want, "ioc", "pw")
    assert isinstance(auth["ssl_context"], ssl.SSLContext)
    assert "pw" not in repr(creds) and "pw" not in describe(s).replace("PLAIN", "")


def test_sasl_plaintext_has_no_tls():
    s = Settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="ioc", kafka_sasl_password="pw")
    assert "ssl_context" not in kafka_python_config(s)
    assert credentials_to_aiokafka_auth(faust_credentials(s))["security_protocol"] == "SASL_PLAINTEXT"


def test_mutual_tls_with_a_client_certificate(pki):
    s = Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=str(pki / "ca.crt"),
                 kafka_ssl_certfile=str(pki / "client.crt"), kafka_ssl_keyfile=str(pki / "client.key"),
                 kafka_ssl_check_hostname=False)
    conf = kafka_python_config(s)
    assert conf["security_protocol"] == "SSL" and "sasl_mechanism" not in conf
    assert conf["ssl_context"].check_hostname is False and conf["ssl_check_hostname"] is False
    auth = credentials_to_aiokafka_auth(faust_credentials(s))
    assert auth["security_protocol"] == "SSL" and isinstance(auth["ssl_context"], ssl.SSLContext)
    assert "client certificate" in describe(s) and "host names not checked" in describe(s)


def test_incomplete_or_contradictory_security_settings_are_refused(pki):
    with pytest.raises(ValidationError, match="needs IOC_KAFKA_SASL_USERNAME and IOC_KAFKA_SASL_PASSWORD"):
        Settings(kafka_security_protocol="SASL_SSL", kafka_sasl_username="ioc")
    with pytest.raises(ValidationError, match="expected one of PLAINTEXT"):
        Settings(kafka_security_protocol="TLS")
    with pytest.raises(ValidationError, match=r"expected one of PLAIN \| SCRAM"):
        Settings(kafka_sasl_mechanism="GSSAPI")
    with pytest.raises(ValidationError, match="IOC_KAFKA_SSL_CAFILE set but IOC_KAFKA_SECURITY_PROTOCOL=PLAINTEXT"):
        Settings(kafka_ssl_cafile=str(pki / "ca.crt"))
    with pytest.raises(ValidationError, match="IOC_KAFKA_SSL_KEYFILE needs IOC_KAFKA_SSL_CERTFILE"):
        Settings(kafka_security_protocol="SSL", kafka_ssl_keyfile=str(pki / "client.key"))


def test_unreadable_tls_files_say_which_setting(pki, tmp_path):
    with pytest.raises(ConfigError, match="IOC_KAFKA_SSL_CAFILE=.*nope.pem"):
        ssl_context(Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=str(tmp_path / "nope.pem")))
    with pytest.raises(ConfigError, match="IOC_KAFKA_SSL_CERTFILE=.*cannot load the client certificate"):
        ssl_context(Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=str(pki / "ca.crt"),
                             kafka_ssl_certfile=str(pki / "ca.crt"), kafka_ssl_keyfile=str(pki / "client.key")))
