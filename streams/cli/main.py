"""The ``ioc`` command.  Every option falls back to an ``IOC_*`` environment variable.

Each command group is a module of ``streams/cli`` that adds its commands with ``register(subparsers)``
(``GROUPS``, in the order ``ioc --help`` lists them).  Errors of the project print one line
``Type: message`` and exit 1.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from streams.cli import alerts, feeds, notify, processes, register, reports, setup, users
from streams.core.errors import IOCError

#: setup (db, topics, settings, schemas), processes (worker, dash, demo), feeds (simulate, record,
#: replay, drill), alerts (maintenance, alerts), notify, users
GROUPS = (setup, processes, feeds, alerts, notify, users, register, reports)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ioc", description="IOC streaming monitor: feeds of the province file's systems, cameras, sensors and services")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Ctrl-C and the console's "stop" interrupt a command, which then releases what it holds (a drill
    # its forced conditions): also when its parent started it with SIGINT ignored, as a shell does
    # for a background job (nohup, &) and as every child of such a process inherits
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.fn(args) or 0
    except IOCError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (ioc settings | head): nothing more to say
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
