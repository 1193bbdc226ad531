import json
from pathlib import Path

import pytest

from streams.core.errors import ConfigError
from pydantic import ValidationError

from streams.core.settings import DEFAULT_RETENTION_DAYS, Settings, describe_settings


def test_environment_with_prefix(monkeypatch):
    monkeypatch.setenv("IOC_KAFKA_BOOTSTRAP", "10.0.0.5:9092, 10.0.0.6:9092")
    monkeypatch.setenv("IOC_BATCH_MAX", "500")
    s = Settings()
    assert s.bootstrap_servers == ["10.0.0.5:9092", "10.0.0.6:9092"]
    assert s.batch_max == 500


def test_secrets_are_masked():
    s = Settings(database_url="postgresql://ioc:hunter2@db/ioc")
    assert "hunter2" not in repr(s) and "hunter2" not in str(s)
    assert s.dsn.endswith("@db/ioc")


def test_bad_values_say_which_setting():
    with pytest.raises(ValidationError, match="kafka_bootstrap"):
        Settings(kafka_bootstrap="nohostport")
    with pytest.raises(ValidationError, match="batch_max"):
        Settings(batch_max=0)


def test_every_setting_is_described():
    rows = describe_settings()
    assert all(desc for _, _, desc in rows)
    assert ("IOC_DASH_PORT", "8050") in [(e, d) for e, d, _ in rows]


def test_settings_built_by_a_factory_show_their_default():
    rows = {env: default for env, default, _ in describe_settings()}
    assert not [env for env, default in rows.items() if "PydanticUndefined" in default]
    assert json.loads(rows["IOC_RETENTION_DAYS"]) == DEFAULT_RETENTION_DAYS


SIMULATOR_SETTINGS = {"IOC_SIM_RATE": ("200", "50", 50.0), "IOC_SIM_SEED": ("2023", "7", 7),
                      "IOC_SIM_FAMILIES": ("", "health,camera", "health,camera"),
                      "IOC_SIM_BATCH_ABOVE": ("200", "10", 10.0), "IOC_SIM_METRICS_PORT": ("0", "9999", 9999),
                      "IOC_SCHEMAS_OUT": ("docs/schemas", "/tmp/schemas", Path("/tmp/schemas"))}


def test_the_simulators_options_are_settings_with_their_old_names_and_defaults(monkeypatch):
    rows = {env: default for env, default, _ in describe_settings()}
    assert {env: rows.get(env) for env in SIMULATOR_SETTINGS} == {e: d for e, (d, _, _) in SIMULATOR_SETTINGS.items()}
    for env, (_, value, _) in SIMULATOR_SETTINGS.items():
        monkeypatch.setenv(env, value)
    s = Settings()
    assert [getattr(s, env[4:].lower()) for env in SIMULATOR_SETTINGS] == [v for _, _, v in SIMULATOR_SETTINGS.values()]
    with pytest.raises(ValidationError, match="sim_metrics_port"):
        Settings(sim_metrics_port=70000)


def test_simulate_demo_and_drill_options_fall_back_to_the_settings(monkeypatch):
    from streams.cli.common import settings_from
    from streams.cli.main import build_parser

    monkeypatch.setenv("IOC_SIM_RATE", "50")
    monkeypatch.setenv("IOC_SIM_SEED", "7")
    parser = build_parser()
    for command in (["simulate"], ["demo"], ["drill", "dvc-ddos"]):
        s = settings_from(parser.parse_args(command))
        assert (s.sim_rate, s.sim_seed) == (50.0, 7), command
        assert settings_from(parser.parse_args([*command, "--rate", "70"])).sim_rate == 70.0  # the option wins
    for command in (["simulate"], ["drill", "dvc-ddos"]):
        assert settings_from(parser.parse_args([*command, "--seed", "8"])).sim_seed == 8
    for command in (["simulate"], ["demo"], ["drill", "dvc-ddos"]):  # a one-line error, never a traceback
        for rate in ("0", "-1", "2e6"):
            with pytest.raises(ConfigError, match="IOC_SIM_RATE"):
                settings_from(parser.parse_args([*command, "--rate", rate]))
    s = settings_from(parser.parse_args(["simulate", "--families", "sensor", "--batch-above", "5",
                                         "--metrics-port", "9470"]))
    assert (s.sim_families, s.sim_batch_above, s.sim_metrics_port) == ("sensor", 5.0, 9470)


def test_schemas_go_where_the_setting_says(monkeypatch, tmp_path, capsys):
    from streams.cli.main import main

    monkeypatch.setenv("IOC_SCHEMAS_OUT", str(tmp_path / "from-env"))
    assert main(["schemas"]) == 0
    assert (tmp_path / "from-env" / "camera.schema.json").exists()
    assert f"written to {tmp_path / 'from-env'}" in capsys.readouterr().out


def test_the_values_in_effect_say_where_each_came_from_and_hide_passwords(monkeypatch, tmp_path):
    from streams.core.settings import settings_in_effect

    monkeypatch.setenv("IOC_SIM_RATE", "50")
    monkeypatch.setenv("IOC_DATABASE_URL", "postgresql://ioc:hunter2@db:5433/ioc?sslmode=require&password=x9")
    (tmp_path / "secret").write_text("k3y\n")
    monkeypatch.setenv("IOC_WEBHOOK_SECRET_FILE", str(tmp_path / "secret"))
    rows = {env: (value, origin) for env, value, origin, _ in
            settings_in_effect(Settings(log_level="DEBUG"), frozenset({"log_level"}))}
    assert rows["IOC_SIM_RATE"] == ("50.0", "environment")
    assert rows["IOC_DATABASE_URL"] == ("postgresql://ioc:***@db:5433/ioc?sslmode=require&password=***", "environment")
    assert rows["IOC_WEBHOOK_SECRET"] == ("(secret)", f"file {tmp_path / 'secret'}")
    assert rows["IOC_LOG_LEVEL"] == ("DEBUG", "option")
    assert rows["IOC_FUTURE_TOLERANCE_S"] == ("300.0", "default")  # 300 and 300.0 are the same value
    assert rows["IOC_RETENTION_DAYS"][1] == "default"


def test_ioc_settings_prints_origins_and_get_prints_values_but_no_secret(monkeypatch, capsys):
    from streams.cli.main import main

    monkeypatch.setenv("IOC_DEMO_RECEIVER_PORT", "19194")
    monkeypatch.setenv("IOC_DATABASE_URL", "postgresql://ioc:hunter2@db:5433/ioc")
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out and "PydanticUndefined" not in out
    line = next(x for x in out.splitlines() if x.startswith("IOC_DEMO_RECEIVER_PORT "))
    assert line.split()[1:3] == ["19194", "environment"]
    assert main(["settings", "--get", "demo_receiver_port", "IOC_ALERTMANAGER_WEBHOOK_URL", "dash_port"]) == 0
    assert capsys.readouterr().out.split() == ["19194", "http://127.0.0.1:19194/alertmanager", "8050"]
    assert main(["settings", "--get", "database_url"]) == 1
    assert "a secret is never printed" in capsys.readouterr().err

def test_ioc_demo_runs_its_simulator_and_receiver_on_the_ports_of_the_settings(monkeypatch, capsys):
    """What `ioc demo` starts listens where the stack's Prometheus and Alertmanager (rendered from the
    same settings by deploy/stack.sh) and the on-call file expect it."""
    import signal
    import subprocess

    from streams.cli import users
    from streams.cli.main import main

    started: list[list[str]] = []

    class Child:
        returncode = 0

        def __init__(self, argv, **_):
            started.append(argv)

        def poll(self):  # every child "exits" at once: the demo stops at its first look
            return 0

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(subprocess, "Popen", Child)
    monkeypatch.setattr("streams.db.migrate.migrate", lambda dsn: [])
    monkeypatch.setattr("streams.kafka.admin.create_topics", lambda settings: {})
    monkeypatch.setattr("streams.cli.register.seed_sample", lambda settings: 0)
    monkeypatch.setattr(users, "demo_wall_url", lambda settings: f"http://127.0.0.1:{settings.dash_port}/wall")
    monkeypatch.setenv("IOC_DEMO_SIM_METRICS_PORT", "19465")
    monkeypatch.setenv("IOC_DEMO_RECEIVER_PORT", "19194")
    monkeypatch.setenv("IOC_DASH_PORT", "18050")
    before = signal.getsignal(signal.SIGTERM)
    try:
        assert main(["demo"]) == 0
    finally:
        signal.signal(signal.SIGTERM, before)
    assert "http://127.0.0.1:18050/wall" in capsys.readouterr().out
    simulate = next(a for a in started if "simulate" in a)
    receiver = next(a for a in started if "agents.alerting.notify.testing" in a)
    assert simulate[simulate.index("--metrics-port") + 1] == "19465"
    assert receiver[receiver.index("--port") + 1] == "19194"
