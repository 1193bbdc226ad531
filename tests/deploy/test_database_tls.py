"""The compose file's database security, run for real on the host's PostgreSQL + TimescaleDB:
TLS-only pg_hba, the init script's non-superuser role, and the IOC connecting with
sslmode=verify-full and a SCRAM password, its URL read from a file (IOC_DATABASE_URL_FILE).

Certificates and passwords come from deploy/production/make-secrets.sh (host name "localhost").
The server gets the compose service's `-c` options except the TSL-only licence setting (the
host's TimescaleDB is the Apache build).
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest
import yaml

from tests.conftest import ROOT
from tests.support import free_port

pytestmark = pytest.mark.integration
PROD = ROOT / "deploy" / "production"


def _as_postgres(args: list[str], **kw) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)


@pytest.fixture(scope="module")
def tls_database(stack):
    initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not initdb:
        pytest.fail("PostgreSQL server binaries not installed: run deploy/stack.sh install postgres")
    bindir = Path(initdb[-1]).parent
    base = Path(tempfile.mkdtemp(prefix="ioc-pgtls-", dir="/var/tmp"))  # reachable by the postgres user
    secrets = base / "secrets"
    subprocess.run(["bash", str(PROD / "make-secrets.sh"), str(secrets)], check=True, capture_output=True,
                   timeout=120, env={"PATH": os.environ["PATH"], "DB_HOST": "localhost"})
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        for path in secrets.iterdir():
            shutil.chown(path, "postgres", "postgres")
        shutil.chown(secrets, "postgres", "postgres")
    data, port = base / "data", free_port()
    out = _as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
    assert out.returncode == 0, out.stderr
    command = yaml.safe_load((PROD / "compose.yaml").read_text())["services"]["timescaledb"]["command"]
    options = [command[i + 1] for i, arg in enumerate(command) if arg == "-c"]
    options = [o.replace("/run/secrets/", f"{secrets}/").replace("/etc/ioc/pg_hba.conf", str(PROD / "postgres/pg_hba.conf"))
               for o in options if not o.startswith("timescaledb.license")]
    args = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "pg.log"), "-w", "-t", "60", "-o",
            " ".join(f"-c {o}" for o in [*options, f"port={port}", "listen_addresses=127.0.0.1",
                                          f"unix_socket_directories={base}", "shared_preload_libraries=timescaledb"]),
            "start"]
    out = _as_postgres(args)
    assert out.returncode == 0, out.stdout + out.stderr + (base / "pg.log").read_text()
    try:
        # the image's entrypoint runs the init scripts as postgres on the local socket
        script = (PROD / "postgres/initdb/10-ioc.sh").read_text().replace("/run/secrets/", f"{secrets}/")
        out = _as_postgres(["sh", "-c", script], env={"PATH": os.environ["PATH"], "POSTGRES_USER": "postgres",
                                                       "PGHOST": str(base), "PGPORT": str(port)})
        assert out.returncode == 0, out.stderr
        yield port, secrets
    finally:
        _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(base, ignore_errors=True)


def test_the_ioc_migrates_over_verified_tls_as_its_own_role(tls_database, tmp_path):
    port, secrets = tls_database
    url = (secrets / "ioc_database_url").read_text().strip()
    assert url.startswith("postgresql://ioc:") and "sslmode=verify-full" in url
    url = url.replace("@localhost:5432/", f"@localhost:{port}/").replace("/run/secrets/", f"{secrets}/")
    (tmp_path / "url").write_text(url + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    env["IOC_DATABASE_URL_FILE"] = str(tmp_path / "url")
    out = subprocess.run([sys.executable, "-m", "streams.cli.main", "db", "migrate"], env=env, capture_output=True,
                         text=True, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr
    password = url.split("ioc:", 1)[1].split("@", 1)[0]
    assert password not in out.stdout + out.stderr
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[0] is True
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0] is False
        assert conn.execute("SELECT count(*) FROM timescaledb_information.hypertables").fetchone()[0] > 5


def test_plain_connections_wrong_cas_and_wrong_passwords_are_refused(tls_database, tmp_path):
    port, secrets = tls_database
    password = (secrets / "ioc_db_password").read_text().strip()
    base = f"postgresql://ioc:{password}@localhost:{port}/ioc?connect_timeout=5"
    with pytest.raises(psycopg.OperationalError, match="no encryption|reject"):
        psycopg.connect(base + "&sslmode=disable")
    other_ca = tmp_path / "other-ca.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(tmp_path / "k"),
                    "-out", str(other_ca), "-days", "1", "-subj", "/CN=another CA"], check=True, capture_output=True)
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(base + f"&sslmode=verify-full&sslrootcert={other_ca}")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(base.replace(password, "wrong") + f"&sslmode=verify-full&sslrootcert={secrets}/ca.crt")
