"""Settings from files (IOC_<NAME>_FILE) and secrets that never show: repr, logs, the CLI, metrics."""
from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from psycopg.conninfo import conninfo_to_dict

from streams.core.errors import ConfigError
from streams.kafka.security import describe, faust_credentials, kafka_python_config
from streams.core.metrics import NotifyMetrics, WorkerMetrics
from streams.core.settings import Settings

SECRET = "S3cret-value-that-must-not-leak"


@pytest.fixture
def clean_env(monkeypatch):
    import os

    for key in [k for k in os.environ if k.startswith("IOC_")]:
        monkeypatch.delenv(key)
    return monkeypatch


def test_a_setting_comes_from_its_file_with_the_trailing_newline_dropped(clean_env, tmp_path):
    (tmp_path / "url").write_text(f"postgresql://ioc:{SECRET}@db:5432/ioc?sslmode=verify-full\n")
    (tmp_path / "partitions").write_text("12")
    (tmp_path / "retention").write_text('{"health_event": 7}\r\n')
    clean_env.setenv("IOC_DATABASE_URL_FILE", str(tmp_path / "url"))
    clean_env.setenv("IOC_TOPIC_PARTITIONS_FILE", str(tmp_path / "partitions"))
    clean_env.setenv("IOC_RETENTION_DAYS_FILE", str(tmp_path / "retention"))
    s = Settings()
    assert s.dsn == f"postgresql://ioc:{SECRET}@db:5432/ioc?sslmode=verify-full"
    assert s.topic_partitions == 12
    assert s.retention_days["health_event"] == 7 and s.retention_days["health_window"] == 400
    # explicit values still win (tests build Settings(...) this way)
    assert Settings(topic_partitions=3).topic_partitions == 3


def test_a_value_and_its_file_together_are_refused(clean_env, tmp_path):
    (tmp_path / "pw").write_text(SECRET)
    clean_env.setenv("IOC_SMTP_PASSWORD", "other")
    clean_env.setenv("IOC_SMTP_PASSWORD_FILE", str(tmp_path / "pw"))
    with pytest.raises(ConfigError, match="IOC_SMTP_PASSWORD and IOC_SMTP_PASSWORD_FILE are both set") as err:
        Settings()
    assert SECRET not in str(err.value)


def test_a_missing_file_says_which_variable_and_path(clean_env, tmp_path):
    clean_env.setenv("IOC_TELEGRAM_TOKEN_FILE", str(tmp_path / "absent"))
    with pytest.raises(ConfigError, match=r"IOC_TELEGRAM_TOKEN_FILE=.*absent: cannot read it \(No such file"):
        Settings()


def test_no_setting_name_is_another_one_plus_file():
    """IOC_X_FILE must mean 'X from a file', never a different setting called x_file."""
    names = set(Settings.model_fields)
    assert not [n for n in names if n.endswith("_file") and n.removesuffix("_file") in names]


def test_the_cli_reads_files_and_says_what_is_wrong_in_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "IOC_DATABASE_URL": "x", "IOC_DATABASE_URL_FILE": str(tmp_path / "x")}
    out = subprocess.run([sys.executable, "-m", "streams.cli.main", "db", "migrate"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 1
    assert out.stderr.strip() == "ConfigError: IOC_DATABASE_URL and IOC_DATABASE_URL_FILE are both set; keep one of them"


def test_database_tls_is_configured_in_the_url():
    url = ("postgresql://ioc:pw@db.ioc.internal:5432/ioc?sslmode=verify-full"
           "&sslrootcert=/run/secrets/ca.crt&sslcert=/run/secrets/client.crt&sslkey=/run/secrets/client.key")
    params = conninfo_to_dict(Settings(database_url=url).dsn)
    assert params["sslmode"] == "verify-full"
    assert params["sslrootcert"] == "/run/secrets/ca.crt"
    assert (params["sslcert"], params["sslkey"]) == ("/run/secrets/client.crt", "/run/secrets/client.key")
    assert params["host"] == "db.ioc.internal" and params["dbname"] == "ioc"


def test_secrets_never_show_in_repr_logs_cli_or_metrics(clean_env, tmp_path, caplog):
    s = Settings(database_url=f"postgresql://ioc:{SECRET}@db/ioc", kafka_security_protocol="SASL_PLAINTEXT",
                 kafka_sasl_username="ioc", kafka_sasl_password=SECRET, smtp_password=SECRET,
                 telegram_token=SECRET, webhook_secret=SECRET, soc_secret=SECRET, kafka_ssl_key_password=SECRET)
    assert SECRET not in repr(s) and SECRET not in str(s) and SECRET not in s.model_dump_json()
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("ioc").info("settings %s, %r; kafka %s; credentials %r", s, s, describe(s),
                                      faust_credentials(s))
    assert caplog.text and SECRET not in caplog.text
    for metrics in (WorkerMetrics, NotifyMetrics):
        registry = CollectorRegistry()
        metrics(registry)
        assert SECRET.encode() not in generate_latest(registry)
    (tmp_path / "pw").write_text(SECRET)
    out = subprocess.run([sys.executable, "-m", "streams.cli.main", "settings"], capture_output=True, text=True,
                         timeout=60, env={"PATH": "/usr/bin:/bin", "IOC_KAFKA_SASL_PASSWORD_FILE": str(tmp_path / "pw"),
                                          "IOC_SMTP_PASSWORD": SECRET})
    assert out.returncode == 0 and SECRET not in out.stdout + out.stderr
    assert "IOC_KAFKA_SASL_PASSWORD" in out.stdout
    # the clients get it, of course, and only they
    assert kafka_python_config(s)["sasl_plain_password"] == SECRET
