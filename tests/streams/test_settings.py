import json

import pytest
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
