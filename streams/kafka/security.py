"""TLS and SASL for every Kafka client, built from one ``Settings``.

    IOC_KAFKA_SECURITY_PROTOCOL   PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL
    IOC_KAFKA_SASL_MECHANISM      PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512
    IOC_KAFKA_SASL_USERNAME, IOC_KAFKA_SASL_PASSWORD(_FILE)
    IOC_KAFKA_SSL_CAFILE          CAs that sign the brokers (empty = the system's CAs)
    IOC_KAFKA_SSL_CERTFILE, IOC_KAFKA_SSL_KEYFILE, IOC_KAFKA_SSL_KEY_PASSWORD(_FILE)   mutual TLS
    IOC_KAFKA_SSL_CHECK_HOSTNAME  verify the broker's name against its certificate (default on)

The Faust worker (aiokafka) gets ``broker_credentials``; the kafka-python clients (topic admin,
simulator producer, recorder, SOC forwarder to our own cluster) get the same settings as keyword
arguments.  Both use one ``ssl.SSLContext`` built here, so they verify brokers the same way.
Passwords leave this module only inside those client objects, never in a ``repr`` or a log line.
"""
from __future__ import annotations

import ssl
from typing import Any

from streams.core.errors import ConfigError
from streams.core.settings import Settings

TLS_PROTOCOLS = frozenset({"SSL", "SASL_SSL"})
SASL_PROTOCOLS = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The client TLS context, or ``None`` when the protocol has no TLS."""
    if settings.kafka_security_protocol not in TLS_PROTOCOLS:
        return None
    try:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=settings.kafka_ssl_cafile or None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"IOC_KAFKA_SSL_CAFILE={settings.kafka_ssl_cafile}: not a readable PEM CA bundle "
                          f"({_reason(exc)})") from None
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = settings.kafka_ssl_check_hostname
    ctx.verify_mode = ssl.CERT_REQUIRED  # the broker is always verified; only the name check is optional
    if settings.kafka_ssl_certfile:
        try:
            ctx.load_cert_chain(settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile or None,
                                password=settings.kafka_ssl_key_password.get_secret_value() or None)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"IOC_KAFKA_SSL_CERTFILE={settings.kafka_ssl_certfile} / IOC_KAFKA_SSL_KEYFILE="
                              f"{settings.kafka_ssl_keyfile or '(in the certificate file)'}: cannot load the client "
                              f"certificate ({_reason(exc)})") from None
    return ctx


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or getattr(exc, "reason", None) or type(exc).__name__


def faust_credentials(settings: Settings) -> Any:
    """``broker_credentials`` for ``faust.App`` (``None`` for PLAINTEXT)."""
    import faust

    protocol = settings.kafka_security_protocol
    ctx = ssl_context(settings)
    if protocol in SASL_PROTOCOLS:
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password.get_secret_value(),
            ssl_context=ctx,  # None -> SASL_PLAINTEXT, a context -> SASL_SSL
            mechanism=settings.kafka_sasl_mechanism,
        )
    if protocol == "SSL":
        return faust.SSLCredentials(ctx)
    return None


def kafka_python_config(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``KafkaProducer`` / ``KafkaConsumer`` / ``KafkaAdminClient``."""
    protocol = settings.kafka_security_protocol
    conf: dict[str, Any] = {"security_protocol": protocol}
    if protocol in TLS_PROTOCOLS:
        conf["ssl_context"] = ssl_context(settings)
        conf["ssl_check_hostname"] = settings.kafka_ssl_check_hostname
    if protocol in SASL_PROTOCOLS:
        conf["sasl_mechanism"] = settings.kafka_sasl_mechanism
        conf["sasl_plain_username"] = settings.kafka_sasl_username
        conf["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    return conf


def describe(settings: Settings) -> str:
    """One line for logs: protocol, mechanism, user, CA; never a password."""
    protocol = settings.kafka_security_protocol
    parts = [protocol]
    if protocol in SASL_PROTOCOLS:
        parts.append(f"{settings.kafka_sasl_mechanism} as {settings.kafka_sasl_username}")
    if protocol in TLS_PROTOCOLS:
        parts.append(f"CA {settings.kafka_ssl_cafile or 'system'}")
        if settings.kafka_ssl_certfile:
            parts.append(f"client certificate {settings.kafka_ssl_certfile}")
        if not settings.kafka_ssl_check_hostname:
            parts.append("host names not checked")
    return ", ".join(parts)
