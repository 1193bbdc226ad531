"""One root exception for the project, with data-carrying subclasses.

    IOCError
     ├── ConfigError            bad settings or data files (province, rules)
     ├── ContractError          an event that breaks its contract (carries reason, detail)
     ├── SinkError              a write to TimescaleDB failed (carries table)
     │    └── SinkUnavailable   the database cannot be reached; retry later
     ├── BrokerError            Kafka could not be reached or refused a request (carries topic)
     └── MigrationError         a schema migration failed (carries version)

Errors from psycopg, aiokafka/kafka-python and HTTP clients are translated where they
enter the project, so callers catch ``IOCError`` and print one line.
"""
from __future__ import annotations


class IOCError(Exception):
    """Root of every error the project raises on purpose."""


class ConfigError(IOCError):
    """Settings or a data file are wrong; the message says which and how to fix it."""


class ContractError(IOCError):
    """An event breaks its contract.

    ``reason`` is a short machine-readable code (``not_json``, ``invalid``, ``too_large``,
    ``future_timestamp``, ``too_old``, ``late``, ``unknown_type``, ``not_an_object``,
    ``too_deep``); ``detail`` says exactly what was wrong.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class SinkError(IOCError):
    """A write to the database failed for a reason a retry will not fix."""

    def __init__(self, message: str, *, table: str | None = None) -> None:
        super().__init__(f"{message} (table {table})" if table else message)
        self.table = table


class SinkUnavailable(SinkError):
    """The database cannot be reached now; the caller waits and retries."""


class BrokerError(IOCError):
    """Kafka could not be reached or refused a request."""

    def __init__(self, message: str, *, topic: str | None = None) -> None:
        super().__init__(f"{message} (topic {topic})" if topic else message)
        self.topic = topic


class MigrationError(IOCError):
    """A schema migration failed; nothing of that version was applied."""

    def __init__(self, message: str, *, version: str | None = None) -> None:
        super().__init__(f"migration {version}: {message}" if version else message)
        self.version = version
