"""systemd units of an installation without containers: systemd-analyze verify and security, settings."""
from __future__ import annotations

import configparser
import re
import shutil
import subprocess

import pytest

from streams.core.settings import Settings
from tests.conftest import ROOT

UNITS = ROOT / "deploy" / "systemd"
SERVICES = sorted(p.name for p in UNITS.glob("*.service"))
HARDENING = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
             "PrivateDevices": "yes", "CapabilityBoundingSet": "", "RestrictAddressFamilies": None,
             "SystemCallFilter": None, "DynamicUser": "yes", "ProtectKernelTunables": "yes"}


def _parse(name: str) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    cp.optionxform = str
    cp.read_string((UNITS / name).read_text())
    return cp


def _values(name: str, key: str) -> list[str]:
    return re.findall(rf"^{key}=(.*)$", (UNITS / name).read_text(), re.M)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A file-system root with our units, the host's own units and stand-ins for /opt/ioc/bin."""
    if not shutil.which("systemd-analyze"):
        pytest.fail("systemd-analyze is not installed: apt-get install systemd")
    r = tmp_path_factory.mktemp("root")
    (r / "etc/systemd/system").mkdir(parents=True)
    (r / "opt/ioc/bin").mkdir(parents=True)
    (r / "usr/lib/systemd").mkdir(parents=True)
    (r / "bin").mkdir()
    shutil.copytree("/usr/lib/systemd/system", r / "usr/lib/systemd/system", symlinks=True)
    shutil.copy("/bin/kill", r / "bin/kill")
    for exe in ("ioc", "gunicorn"):
        (r / "opt/ioc/bin" / exe).write_text("#!/bin/sh\n")
        (r / "opt/ioc/bin" / exe).chmod(0o755)
    for unit in UNITS.glob("ioc*"):
        if unit.suffix in {".service", ".target", ".timer"}:
            shutil.copy(unit, r / "etc/systemd/system" / unit.name)
    return r


def test_systemd_analyze_verify_reports_nothing(root):
    names = ["ioc.target", *(s.replace("@.", "@9464.") for s in SERVICES), *(p.name for p in UNITS.glob("*.timer"))]
    out = subprocess.run(["systemd-analyze", "verify", "--man=no", f"--root={root}", *names], capture_output=True,
                         text=True, timeout=60, cwd=root / "etc/systemd/system")
    # unknown keys and bad values are only warnings (exit 0): any output at all is a failure
    assert out.returncode == 0 and not out.stdout.strip() and not out.stderr.strip(), out.stdout + out.stderr


@pytest.mark.parametrize("name", SERVICES)
def test_security_exposure_is_low(root, name):
    unit = root / "etc/systemd/system" / name
    out = subprocess.run(["systemd-analyze", "security", "--offline=yes", f"--root={root}", str(unit)],
                         capture_output=True, text=True, timeout=60)
    level = re.search(r"Overall exposure level for \S+: ([\d.]+)", out.stdout + out.stderr)
    assert level, out.stdout + out.stderr
    assert float(level.group(1)) <= 2.0, out.stdout


@pytest.mark.parametrize("name", SERVICES)
def test_units_are_hardened_and_take_secrets_as_credentials(name):
    unit = _parse(name)["Service"]
    for key, want in HARDENING.items():
        assert key in unit, f"{name}: {key} missing"
        if want is not None:
            assert unit[key].strip() == want, (name, key)
    assert unit["EnvironmentFile"] == "/etc/ioc/ioc.env"
    assert _parse(name)["Unit"]["PartOf"] == "ioc.target"
    creds = {v.split(":", 1)[0] for v in _values(name, "LoadCredential")}
    assert "database_url" in creds
    for env in _values(name, "Environment"):
        key, _, value = env.partition("=")
        if key.endswith("_FILE"):
            assert value.startswith("%d/") and value[3:] in creds, (name, env)
        else:
            assert not re.search(r"PASSWORD|SECRET|TOKEN|DATABASE_URL=", key), (name, env)


def test_several_workers_per_host_differ_by_metrics_port_and_state_directory():
    text = (UNITS / "ioc-worker@.service").read_text()
    assert "Environment=IOC_METRICS_PORT=%i" in text
    assert "StateDirectory=ioc/worker-%i" in text and "WorkingDirectory=%S/ioc/worker-%i" in text


def test_the_environment_file_names_only_settings_and_holds_no_secret():
    fields = set(Settings.model_fields)
    secret_fields = {n for n, f in Settings.model_fields.items() if "SecretStr" in str(f.annotation)}
    lines = [l for l in (UNITS / "ioc.env.example").read_text().splitlines() if l and not l.startswith("#")]
    assert lines
    for line in lines:
        key, _, value = line.partition("=")
        if key == "WEB_CONCURRENCY":  # gunicorn's own
            continue
        assert key.startswith("IOC_") and key[4:].lower() in fields, key
        assert key[4:].lower() not in secret_fields and key != "IOC_DATABASE_URL", f"{key} belongs in a credential"
        assert not re.search(r"://[^/@\s:]+:[^/@\s]+@", value), key
    # every variable the units' command lines use is defined there
    used = set(re.findall(r"\$\{(\w+)\}", "".join((UNITS / s).read_text() for s in SERVICES)))
    assert used <= {l.split("=", 1)[0] for l in lines}
