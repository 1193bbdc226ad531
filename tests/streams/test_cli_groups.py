"""One convention for the command groups: each module of ``streams/cli`` that adds commands does it
with ``register(subparsers)``, and ``streams.cli.main`` calls every one of them."""
import argparse
import importlib
import pkgutil

import streams.cli
from streams.cli.main import GROUPS, build_parser

COMMANDS = {"db", "topics", "settings", "schemas", "worker", "dash", "demo", "simulate", "record", "replay", "drill",
            "maintenance", "alerts", "notify", "users", "register", "sla", "rollup", "report"}


def test_every_command_group_registers_itself_and_main_calls_each():
    modules = [importlib.import_module(f"streams.cli.{m.name}") for m in pkgutil.iter_modules(streams.cli.__path__)]
    registering = {m for m in modules if callable(getattr(m, "register", None))}
    assert set(GROUPS) == registering and len(GROUPS) == 8
    assert not [m.__name__ for m in modules if hasattr(m, "add_parser") or hasattr(m, "add_commands")]


def test_every_command_is_there_once():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == COMMANDS

