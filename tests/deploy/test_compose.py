"""The production compose file, its image and its secrets, checked without a Docker engine."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
import yaml

from streams.core.settings import Settings
from tests.conftest import ROOT

PROD = ROOT / "deploy" / "production"
COMPOSE = PROD / "compose.yaml"
SETTINGS = set(Settings.model_fields)
SECRET_FIELDS = {n for n, f in Settings.model_fields.items() if "SecretStr" in str(f.annotation)}
SECRET_WORDS = re.compile(r"PASSWORD|SECRET|TOKEN|PRIVATE|CREDENTIAL", re.I)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    return {k: str(v) for k, v in env.items()}


def _ioc_services(compose):
    return {n: s for n, s in compose["services"].items() if s.get("image", "").startswith("${IOC_IMAGE")}


def test_the_parts_of_a_production_deployment_are_there(compose):
    services = compose["services"]
    kafka = [n for n, s in services.items() if s["image"].startswith("apache/kafka:")]
    assert len(kafka) == 3
    for n in kafka:
        env = _env(services[n])
        assert "broker" in env["KAFKA_PROCESS_ROLES"] and "controller" in env["KAFKA_PROCESS_ROLES"]
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].count("@") == 3
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2" and env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        # the apache/kafka start script treats listener names containing SSL:// or SASL_ as JKS setups
        assert "SSL://" not in env["KAFKA_ADVERTISED_LISTENERS"] and "SASL_" not in env["KAFKA_ADVERTISED_LISTENERS"]
    assert len({_env(services[n])["KAFKA_NODE_ID"] for n in kafka}) == 3
    assert services["timescaledb"]["image"].startswith("timescale/timescaledb:")
    assert services["prometheus"]["image"].startswith("prom/prometheus:")
    assert services["alertmanager"]["image"].startswith("prom/alertmanager:")
    ioc = _ioc_services(compose)
    assert {"migrate", "worker", "dash", "alerts", "notify"} <= set(ioc)
    assert services["worker"]["command"] == ["worker"] and services["worker"]["deploy"]["replicas"] >= 2
    dash = services["dash"]
    assert dash["entrypoint"] == ["gunicorn"] and dash["command"][-1] == "ioc_dash.wsgi:server"
    assert int(dash["command"][dash["command"].index("--workers") + 1]) >= 2
    assert services["alerts"]["command"] == ["alerts", "run"] and services["notify"]["command"] == ["notify", "run"]
    for name, s in ioc.items():
        assert s["build"]["dockerfile"] == "deploy/production/Dockerfile", name


def test_every_service_has_an_image_a_restart_policy_and_a_healthcheck(compose):
    waited_for = {dep for s in compose["services"].values()
                  for dep, cond in (s.get("depends_on") or {}).items()
                  if cond.get("condition") == "service_completed_successfully"}
    for name, s in compose["services"].items():
        assert s.get("image") or s.get("build"), name
        assert s.get("restart") in {"always", "unless-stopped"} or str(s.get("restart")).startswith("on-failure"), name
        hc = s.get("healthcheck")
        assert hc, f"{name} has no healthcheck"
        if hc.get("disable"):
            assert name in waited_for, f"{name}: only one-shot jobs may go without a healthcheck"
        else:
            assert hc["test"][0] in {"CMD", "CMD-SHELL"} and hc.get("interval") and hc.get("retries"), name
        for dep, cond in (s.get("depends_on") or {}).items():
            target = compose["services"][dep]
            if cond["condition"] == "service_healthy":
                assert not target["healthcheck"].get("disable"), (name, dep)


def test_ioc_containers_are_hardened_and_use_only_real_settings(compose):
    for name, s in _ioc_services(compose).items():
        assert s["read_only"] is True and s["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in s["security_opt"], name
        for key in _env(s):
            assert key.startswith("IOC_"), (name, key)
            field = key[4:].lower()
            base = field.removesuffix("_file") if field.endswith("_file") and field not in SETTINGS else field
            assert base in SETTINGS, f"{name}: {key} is not a setting (ioc settings lists them)"


def test_no_secret_is_written_in_the_compose_file(compose):
    declared = set(compose["secrets"])
    for name, s in compose["services"].items():
        for key, value in _env(s).items():
            field = key[4:].lower() if key.startswith("IOC_") else ""
            if field in SECRET_FIELDS:
                pytest.fail(f"{name}: {key} is a secret; give {key}_FILE instead")
            if key.endswith("_FILE"):
                assert value.startswith("/run/secrets/"), (name, key)
                assert value.removeprefix("/run/secrets/") in (s.get("secrets") or []), (name, key)
            elif SECRET_WORDS.search(key):
                pytest.fail(f"{name}: {key} looks like a secret written inline")
            assert not re.search(r"://[^/@\s:]+:[^/@\s]+@", value), f"{name}: {key} has a password in a URL"
            assert not re.search(r"user_\w+=|password=", value, re.I), (name, key)
        for secret in s.get("secrets") or []:
            assert secret in declared, (name, secret)
    for secret, spec in compose["secrets"].items():
        assert spec["file"].startswith("./secrets/"), secret
    ignored = (PROD / "secrets" / ".gitignore").read_text().split()
    assert "*" in ignored
    tracked = subprocess.run(["git", "ls-files", "deploy/production/secrets"], cwd=ROOT, capture_output=True,
                             text=True).stdout.split()
    assert tracked in ([], ["deploy/production/secrets/.gitignore"])


def test_secrets_script_makes_every_declared_secret(compose, tmp_path):
    out = subprocess.run(["bash", str(PROD / "make-secrets.sh"), str(tmp_path / "s")], capture_output=True,
                         text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "EXTRA_SAN": "DNS:localhost"})
    assert out.returncode == 0, out.stderr
    for secret, spec in compose["secrets"].items():
        assert (tmp_path / "s" / spec["file"].removeprefix("./secrets/")).is_file(), secret
    url = (tmp_path / "s" / "ioc_database_url").read_text()
    assert "sslmode=verify-full" in url and "@timescaledb:5432/ioc" in url
    pem = (tmp_path / "s" / "kafka-1.pem").read_text()
    assert "PRIVATE KEY" in pem and pem.count("BEGIN CERTIFICATE") == 2
    again = subprocess.run(["bash", str(PROD / "make-secrets.sh"), str(tmp_path / "s")], capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 0 and "made" not in again.stdout  # never overwrites


def test_the_files_the_compose_file_mounts_exist(compose):
    for name, s in compose["services"].items():
        for volume in s.get("volumes") or []:
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (PROD / source).exists(), (name, source)
    assert (PROD / compose["services"]["worker"]["build"]["context"]).resolve() == ROOT


def test_the_image_runs_as_a_user_and_bakes_in_no_secret():
    text = (PROD / "Dockerfile").read_text()
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    assert froms and all(f == "${PYTHON_IMAGE}" for f in froms)
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.M)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    for line in re.findall(r"^(?:ENV|ARG)\s+(.+)$", text, re.M):
        assert not SECRET_WORDS.search(line), line
    assert "COPY . " not in text and "secrets" not in text.split("# syntax")[0]
    ignore = [line for line in (PROD / "Dockerfile.dockerignore").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert ignore[0] == "**"  # nothing enters the context unless listed: no .run/, .venv/, secrets/


def test_the_image_carries_the_files_of_deploy_the_dashboard_reads():
    """Files of deploy/ are outside the package: the image copies them and its settings name them."""
    text = (PROD / "Dockerfile").read_text()
    ignore = (PROD / "Dockerfile.dockerignore").read_text().splitlines()
    for name, setting in (("oncall.yaml", "IOC_ONCALL_FILE"), ("status_page.yaml", "IOC_STATUS_PAGE_FILE")):
        assert f"COPY deploy/{name} /etc/ioc/{name}" in text and f"!deploy/{name}" in ignore, name
        assert f"{setting}=/etc/ioc/{name}" in text, setting


def test_the_installed_package_carries_its_data_files(tmp_path):
    """What the Dockerfile copies and installs (not editable) contains migrations, province, rules data."""
    (tmp_path / "src").mkdir()
    for part in ("pyproject.toml", "README.md", "streams", "agents", "simulators", "ioc_dash"):
        src = ROOT / part
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / "src" / part,
                                                           **({"ignore": shutil.ignore_patterns("__pycache__")}
                                                              if src.is_dir() else {}))
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "whl"),
                          str(tmp_path / "src")], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    import zipfile

    (wheel,) = (tmp_path / "whl").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("streams/db/migrations/001_core.sql", "simulators/data/kien_giang.yaml", "simulators/data/an_giang.yaml",
                   "simulators/data/an_giang_outline.geojson",
                   "agents/indicators/data/sensor_rules.yaml", "ioc_dash/assets/wall.css", "ioc_dash/locale/console.yaml",
                   "ioc_dash/reports/register_report.css",
                   "ioc_dash/wsgi.py", "streams/kafka/security.py"):
        assert needed in names, needed
    assert not [n for n in names if n.startswith(("deploy/", "tests/", ".run/"))]


#: the WAL settings the feed writes need (docs/operations.md#postgresql-settings), as PostgreSQL shows them
WAL_SETTINGS = {"max_wal_size": "8GB", "min_wal_size": "1GB", "checkpoint_timeout": "15min", "wal_compression": "lz4"}


def test_the_database_runs_with_the_write_settings_here_and_in_production(compose, db):
    """The local stack's PostgreSQL (deploy/postgres/postgresql.conf.in, as deploy/stack.sh renders it)
    runs with them, and the production database is started with the same."""
    shown = {name: db.execute("SELECT current_setting(%s)", (name,)).fetchone()[0]
             for name in (*WAL_SETTINGS, "shared_buffers")}
    assert shown == {**WAL_SETTINGS, "shared_buffers": "1GB"}
    command = compose["services"]["timescaledb"]["command"]
    options = dict(command[i + 1].split("=", 1) for i, arg in enumerate(command) if arg == "-c")
    assert {k: options.get(k) for k in WAL_SETTINGS} == WAL_SETTINGS
