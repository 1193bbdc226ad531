"""Every table a feed family declares in Python matches the migrated database, column by column."""
from __future__ import annotations

from dataclasses import replace

import pytest

from streams.core.families import FAMILIES
from streams.core.tables import PRODUCER_WINDOW, SOURCE_WINDOW
from streams.db.declared import mismatches

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_each_declared_table_and_column_is_in_the_database(db, family):
    assert mismatches(db, family.load("feed").tables) == []


def test_the_shared_source_counters_match_too(db):
    assert mismatches(db, [SOURCE_WINDOW, PRODUCER_WINDOW]) == []


def test_a_missing_or_mistyped_column_is_named(db):
    raw = FAMILIES[0].load("feed").raw
    (time_col, time_type), *rest = raw.columns
    mistyped = replace(raw, columns=((time_col, "text"), *rest))
    missing = replace(raw, columns=(*raw.columns, ("observer", "text")))
    undeclared = replace(raw, columns=raw.columns[:-1])
    assert mismatches(db, [mistyped]) == [
        f"{raw.name}.{time_col}: declared text, the database has timestamp with time zone"]
    assert mismatches(db, [missing]) == [f"{raw.name}.observer: declared, but not in the database"]
    assert mismatches(db, [undeclared]) == [f"{raw.name}.{raw.columns[-1][0]}: in the database, but not declared"]
    counter = FAMILIES[0].load("feed").counters[0]
    renamed = replace(counter, sums=tuple(c + "_total" if i == 0 else c for i, c in enumerate(counter.sums)))
    assert sorted(mismatches(db, [renamed])) == sorted([
        f"{counter.name}.{counter.sums[0]}_total: declared, but not in the database",
        f"{counter.name}.{counter.sums[0]}: in the database, but not declared"])
    assert mismatches(db, [replace(counter, name="no_such_window")]) == [
        "table no_such_window: declared, but not in the database"]
