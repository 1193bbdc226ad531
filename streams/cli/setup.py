"""Setting up: ``ioc db migrate``, ``ioc topics create``, ``ioc settings`` and ``ioc schemas``."""
from __future__ import annotations

import argparse

from streams.cli.common import command, group, option
from streams.core.errors import ConfigError
from streams.core.settings import Settings, describe_settings, settings_in_effect


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from streams.db.migrate import migrate

    applied = migrate(settings.dsn)
    print(f"migrate: {len(applied)} applied, schema up to date")
    return 0


def cmd_topics(args: argparse.Namespace, settings: Settings) -> int:
    from streams.kafka.admin import create_topics

    topics = create_topics(settings)
    print(f"topics: {len(topics)} present ({', '.join(sorted(topics))})")
    return 0


def cmd_settings(args: argparse.Namespace, settings: Settings) -> int:
    if args.defaults:
        for env, default, desc in describe_settings():
            print(f"{env:32} {default:42} {desc}")
        return 0
    options = frozenset(k for k, v in vars(args).items() if k in Settings.model_fields and v is not None)
    if args.get:
        return _print_values(settings, args.get)
    print("# the values in effect here and where each came from: environment (IOC_<NAME>), file (IOC_<NAME>_FILE),\n"
          "# option or default; secrets shown as (secret), a URL's password as ***")
    for env, value, origin, desc in settings_in_effect(settings, options):
        print(f"{env:32} {value:42} {origin:12} {desc}")
    return 0


def _print_values(settings: Settings, names: list[str]) -> int:
    """One value a line, for scripts (deploy/stack.sh renders the local stack's configuration with
    them): settings and the derived values of ``Settings.template_values``; never a secret."""
    values = settings.template_values()
    for name in names:
        key = name.lower().removeprefix("ioc_")
        if key not in values:
            why = "a secret is never printed" if key in Settings.model_fields else "no such setting"
            raise ConfigError(f"ioc settings --get {name}: {why}")
        print(values[key])
    return 0


def cmd_schemas(args: argparse.Namespace, settings: Settings) -> int:
    from streams.core.schemas import write_schemas

    out = settings.schemas_out
    paths = write_schemas(out)
    print(f"schemas: {len(paths)} written to {out} ({', '.join(p.name for p in paths)})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    db = group(sub, "db", "database schema")
    command(db, "migrate", cmd_migrate, "apply pending migrations (idempotent)", db=True, log_level=False)

    topics = group(sub, "topics", "Kafka topics")
    tc = command(topics, "create", cmd_topics, "create the project's topics with their partitions (idempotent)",
                 kafka=True, log_level=False)
    option(tc, "--partitions", "topic_partitions", "partitions per feed topic", type=int)

    st = command(sub, "settings", cmd_settings, "list every IOC_* setting with the value in effect")
    st.add_argument("--defaults", action="store_true", help="the defaults instead of the values in effect")
    st.add_argument("--get", nargs="+", metavar="NAME",
                    help="only these values, one a line (a setting such as metrics_port or IOC_METRICS_PORT, "
                    "or demo_receiver_url, alertmanager_webhook_url; never a secret)")

    sc = command(sub, "schemas", cmd_schemas, "write the JSON Schema of every feed family", log_level=False,
                 description="write <family>.schema.json for every feed family (one event or an array)")
    option(sc, "--out", "schemas_out", "output folder", metavar="OUT")
