"""JSON Schema of every feed family, for producers outside this codebase.

A Kafka message of a family holds one event or a JSON array of events, so each schema accepts
either.  The files are generated from the pydantic contracts (``ioc schemas --out DIR``) and
published in ``docs/schemas/``; a test checks that the published ones are up to date.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Union

from pydantic import TypeAdapter

from streams.core.families import CONTRACTS, MODELS

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def family_schema(family: str) -> dict[str, Any]:
    """The schema of one Kafka message of ``family``: an event or an array of events."""
    contract = CONTRACTS[family]
    schema = TypeAdapter(Union[contract, list[contract]]).json_schema()  # noqa: UP007 (a runtime union)
    types = ", ".join(m.__name__ for m in MODELS[family])
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{family}.schema.json",
        "title": f"IOC feed '{family}': one event or an array of events",
        "description": (f"Event types (field `type`): {types}. Timestamps are ISO 8601 with an offset; "
                        "numbers are finite; text holds no NUL character. See docs/contracts.md."),
        **schema,
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write_schemas(out_dir: Path) -> list[Path]:
    """Write ``<family>.schema.json`` for every family into ``out_dir``; return the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for family in CONTRACTS:
        path = out_dir / f"{family}.schema.json"
        path.write_text(render(family_schema(family)), encoding="utf-8")
        paths.append(path)
    return paths
