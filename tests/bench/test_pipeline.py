"""``python -m bench.pipeline``: the worker's pipelines in one process on a scratch database."""
from __future__ import annotations

from bench import pipeline
from streams.core.settings import Settings


def test_messages_are_the_simulated_mix_with_fresh_ids():
    settings = Settings()
    first, second = (pipeline.messages(settings, "batched", 3000) for _ in range(2))
    assert {"health", "security", "camera"} <= set(first)
    assert any(m.value.startswith(b"[") for m in first["health"])  # arrays in batched mode
    assert all(not m.value.startswith(b"[") for m in pipeline.messages(settings, "single", 500)["health"])
    assert first["health"][0].value != second["health"][0].value  # each round writes events never seen


def test_a_round_stores_every_event_and_reports_its_cost(tmp_path, capsys):
    res = pipeline.measure("single", 3000, rounds=1, profile_to=tmp_path / "profile.txt")
    sent = res["events"]
    assert sent > 2000 and res["cpu_us"] > 0 and res["wall_us"] > 0
    profile = (tmp_path / "profile.txt").read_text()
    assert "function calls" in profile and ("streams/" in profile or "agents/" in profile)  # the project's code
    assert f"{sent:,} events" in capsys.readouterr().out
