"""What every command group shares: subcommands, options that fall back to ``IOC_*`` variables,
the settings they make, logging, and the stop of long-running commands.

Each command group is a module of ``streams/cli`` with ``register(subparsers)``, which adds its
commands with ``command`` (or ``group`` and ``command``); ``streams/cli/main.py`` calls it for every
module of ``GROUPS``.  A command is ``fn(args, settings)``: ``command`` makes ``Settings`` from its
options and the ``IOC_*`` variables, sets up logging, and ``fn`` calls the part that does the work
(``agents/``, ``simulators/``, ``ioc_dash/``): processes are assembled there, not here.
"""
from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable

from pydantic import ValidationError

from streams.core.errors import ConfigError
from streams.core.settings import Settings

Command = Callable[[argparse.Namespace, Settings], int]


def command(sub: argparse._SubParsersAction, name: str, fn: Command, help_: str, *,
            kafka: bool = False, db: bool = False, log_level: bool = True,
            description: str | None = None) -> argparse.ArgumentParser:
    """Subcommand ``name`` running ``fn(args, settings)``, with the Kafka and database options it
    needs; with ``log_level`` (the default) it logs, and takes ``--log-level``."""
    p = sub.add_parser(name, help=help_, description=description or help_)
    p.set_defaults(fn=_with_settings(fn, logs=log_level))
    if kafka:
        option(p, "--bootstrap", "kafka_bootstrap", "Kafka bootstrap servers")
        option(p, "--topic-prefix", "topic_prefix", "topic name prefix")
    if db:
        option(p, "--database-url", "database_url", "TimescaleDB URL")
    if log_level:
        option(p, "--log-level", "log_level", "log level")
    return p


def group(sub: argparse._SubParsersAction, name: str, help_: str, *, dest: str | None = None,
          description: str | None = None) -> argparse._SubParsersAction:
    """Command ``name`` made of actions (``ioc <name> <action>``); add them with ``command``.  The
    action chosen is ``args.<name>_command`` (or ``args.<dest>``)."""
    p = sub.add_parser(name, help=help_, description=description)
    return p.add_subparsers(dest=dest or f"{name}_command", required=True, metavar="ACTION")


def option(parser: argparse.ArgumentParser, flag: str, field: str, help_: str, **kw) -> None:
    env = f"IOC_{field.upper()}"
    default = Settings.model_fields[field].default
    if hasattr(default, "get_secret_value"):
        default = "(secret)"
    shown = "" if default in ("", None) else f", default {default}"
    parser.add_argument(flag, dest=field, default=None, help=f"{help_} [env {env}{shown}]", **kw)


def settings_from(args: argparse.Namespace) -> Settings:
    overrides = {k: v for k, v in vars(args).items() if k in Settings.model_fields and v is not None}
    try:
        return Settings(**overrides)
    except ValidationError as exc:  # say which setting, in one line
        problems = "; ".join(  # a check across settings has no location: its message names them
            (f"IOC_{'_'.join(str(p) for p in e['loc']).upper()}: " if e["loc"] else "") + e["msg"]
            for e in exc.errors()[:3]
        )
        raise ConfigError(f"bad settings: {problems}") from None


def _with_settings(fn: Command, logs: bool) -> Callable[[argparse.Namespace], int]:
    """``fn(args, settings)`` as a subcommand: settings from its options and the IOC_* variables."""

    def run(args: argparse.Namespace) -> int:
        settings = settings_from(args)
        if logs:
            setup_logging(settings)
        return fn(args, settings)

    return run


def stop_on_sigterm() -> threading.Event:
    """An event that SIGTERM (a service manager stopping the process) sets; long-running commands
    run until it is set."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    return stop


def setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # kafka-python's (topics, record, replay) connection chatter only as warnings
    logging.getLogger("kafka").setLevel(max(logging.WARNING, logging.getLogger().level))
