"""Setting up: ``ioc db migrate``, ``ioc topics create``, ``ioc settings`` and ``ioc schemas``."""
from __future__ import annotations

import argparse

from streams.cli.common import command, group, option
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
    print("# the values in effect here; * set by an IOC_* variable (secrets shown as (secret))")
    for env, value, changed, desc in settings_in_effect(settings):
        print(f"{'*' if changed else ' '} {env:32} {value:42} {desc}")
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

    sc = command(sub, "schemas", cmd_schemas, "write the JSON Schema of every feed family", log_level=False,
                 description="write <family>.schema.json for every feed family (one event or an array)")
    option(sc, "--out", "schemas_out", "output folder", metavar="OUT")
