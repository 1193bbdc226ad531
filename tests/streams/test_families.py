"""The feed families are declared once (streams/core/families.py); every list of them derives from it."""
from __future__ import annotations

import inspect

import pytest

from agents.indicators.rollups import ROLLUPS

from agents.indicators.registry import INDICATORS
from agents.worker.workers import FEED_SPECS
from ioc_dash.figures_alerts import INDICATOR_PAGES
from ioc_dash.figures_sources import FEED_COLORS
from simulators.catalog import FAMILIES as SIMULATORS
from streams.core.families import DEFAULT_RETENTION_DAYS, FAMILIES, MODELS, family
from streams.core.settings import Settings
from streams.core.tables import FeedSpec
from streams.core.topics import FEEDS

NAMES = [f.name for f in FAMILIES]


@pytest.mark.parametrize("fam", FAMILIES, ids=lambda f: f.name)
def test_every_reference_of_a_declaration_resolves_to_its_part(fam):
    spec = fam.load("feed")
    assert isinstance(spec, FeedSpec) and spec.family == fam.name
    simulator = fam.load("simulator")
    assert inspect.isclass(simulator) and simulator.family == fam.name
    assert all(callable(getattr(simulator, m, None)) for m in ("tick", "key_of"))  # the Simulator protocol
    assert spec.raw.name in fam.retention_days  # its raw table is kept for a declared time
    assert {t.name for t in spec.tables if t is not spec.state} <= set(fam.retention_days), \
        "a hypertable without a retention"
    assert any(name.startswith(f"{fam.name}.") for name in INDICATORS), "a family no rule can watch"
    assert fam.colour.startswith("#") and fam.page
    # every event names its producer: each model has one of the family's producer fields, required or not
    assert all(any(f in m.model_fields for f in fam.producer) for m in fam.models), "an event without a producer"


def test_every_list_of_families_is_the_declared_tuple():
    assert list(FEEDS) == NAMES
    assert list(MODELS) == NAMES
    assert [s.family for s in FEED_SPECS] == NAMES
    assert list(SIMULATORS) == NAMES
    assert list(FEED_COLORS) == NAMES
    assert set(INDICATOR_PAGES) == {*NAMES, "source", "register"}  # + the feeds' quality, the security register
    assert set(DEFAULT_RETENTION_DAYS) == {t for f in FAMILIES for t in f.retention_days} | {
        "source_window", "producer_window", *(r.hour_table for r in ROLLUPS if r.hourly)}
    assert Settings().retention_days == DEFAULT_RETENTION_DAYS


def test_an_unknown_family_is_named_with_the_known_ones():
    with pytest.raises(KeyError, match="unknown feed family 'weather'; known: health, security"):
        family("weather")
