"""One root exception for the project, with data-carrying subclasses.

    IOCError
     ├── ConfigError            bad settings or data files (province, rules)
     ├── SinkError              a write to TimescaleDB failed (carries table)
     │    └── SinkUnavailable   the database cannot be reached; retry later
     ├── BrokerError            Kafka could not be reached or refused a request (carries topic)
     ├── MigrationError         a schema migration failed (carries version)
     ├── NotifyError            a notification or an upstream forward was not delivered
     │                          (carries channel, receiver, retryable, retry_after)
     ├── InputError             operator input that cannot be stored (NUL characters, broken Unicode)
     └── AuthError              a user, password, session or token was refused
          ├── Forbidden         the role may not do this (carries permission, role)
          └── LoginRateLimited  too many failed logins (carries retry_after)

Errors from psycopg, aiokafka/kafka-python, HTTP clients and smtplib are translated where they
enter the project, so callers catch ``IOCError`` and print one line; the database driver's in one
place, ``streams.db.errors.translated``.
"""
from __future__ import annotations


class IOCError(Exception):
    """Root of every error the project raises on purpose."""


class ConfigError(IOCError):
    """Settings or a data file are wrong; the message says which and how to fix it."""


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


class NotifyError(IOCError):
    """A notification (or a forward to the upstream SOC) was not delivered.

    ``channel`` and ``receiver`` say where it was going.  ``retryable`` is False when sending
    the same message again cannot succeed (the receiver rejected it as malformed);
    ``retry_after`` is the wait in seconds the receiver asked for, when it said so.
    """

    def __init__(self, message: str, *, channel: str, receiver: str, retryable: bool = True,
                 retry_after: float | None = None) -> None:
        super().__init__(f"{channel} receiver {receiver!r}: {message}")
        self.channel = channel
        self.receiver = receiver
        self.retryable = retryable
        self.retry_after = retry_after


class InputError(IOCError):
    """Text typed by an operator (or given to a command) that the database cannot store as it is."""


class AuthError(IOCError):
    """A user, password, session or wall token was refused, or a user command cannot be done."""


class Forbidden(AuthError):
    """The signed-in principal's role does not include ``permission``."""

    def __init__(self, permission: str, *, who: str, role: str) -> None:
        super().__init__(f"{who} ({role}) may not {permission}")
        self.permission = permission
        self.role = role


class LoginRateLimited(AuthError):
    """Too many failed logins for a user name or an address; ``retry_after`` seconds to wait."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many failed logins; try again in {max(1, round(retry_after))} s")
        self.retry_after = retry_after
