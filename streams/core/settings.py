"""One settings object, read from ``IOC_*`` environment variables at the entry point.

Defaults point at the local stack started by ``deploy/stack.sh``.  Tests build
``Settings(...)`` explicitly.  Secrets are ``SecretStr`` and never appear in ``repr``.

Every setting may instead come from a file: ``IOC_<NAME>_FILE=/path`` reads the value from that
file (one trailing newline dropped), for Docker/Compose secrets (``/run/secrets/…``), Kubernetes
secret volumes and systemd credentials (``LoadCredential=``, ``%d/…``).  Setting both
``IOC_<NAME>`` and ``IOC_<NAME>_FILE`` is an error; an explicit ``Settings(name=…)`` wins over both.
"""
from __future__ import annotations

import json
import re
from typing import Any
import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from streams.core.errors import ConfigError
from streams.core.families import DEFAULT_RETENTION_DAYS

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PROVINCE_FILE = PACKAGE_ROOT / "simulators" / "data" / "an_giang.yaml"

#: days each hypertable keeps (why each figure: docs/operations.md, "Retention"); a family's id
#: ledger (event_id_ledger) keeps its ids as long as the family's raw table keeps events.
#: raw security logs are evidence: Decree 53/2022/NĐ-CP keeps system logs at least 12 months


KAFKA_SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
KAFKA_SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


class FileSettingsSource(EnvSettingsSource):
    """``IOC_<NAME>_FILE``: the value of setting ``<name>`` is the content of that file."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        values: dict[str, str] = {}
        for name in self.settings_cls.model_fields:
            var = f"{self.env_prefix}{name}".upper()
            path = os.environ.get(f"{var}_FILE")
            if not path:
                continue
            if os.environ.get(var) is not None:
                raise ConfigError(f"{var} and {var}_FILE are both set; keep one of them")
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
                raise ConfigError(f"{var}_FILE={path}: cannot read it ({reason})") from None
            values[var.lower()] = text.removesuffix("\n").removesuffix("\r")
        return values


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IOC_", extra="ignore", frozen=True)

    # --- Kafka -----------------------------------------------------------------
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers, comma separated")
    topic_prefix: str = Field("ioc.", description="prefix of every topic name (isolates test runs)")
    topic_partitions: int = Field(4, ge=1, le=256, description="partitions of each feed topic")
    topic_replication: int = Field(1, ge=1, le=7, description="replicas of each topic (3 on a three-broker cluster)")
    app_id: str = Field("ioc-worker", description="Faust application id = Kafka consumer group")
    kafka_session_timeout_s: float = Field(
        15, ge=3, le=300, description="a worker that stops heartbeating (crash, kill -9) loses its partitions "
        "to the others after this long; heartbeats go every fifth of it")
    kafka_metadata_max_age_s: float = Field(
        10, ge=1, le=300, description="the worker refreshes who leads each partition at least this often: a "
        "partition without a committed offset whose leader moved is read again within this time")
    kafka_security_protocol: str = Field(
        "PLAINTEXT", description="PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL (streams/kafka/security.py)")
    kafka_sasl_mechanism: str = Field("PLAIN", description="PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512")
    kafka_sasl_username: str = Field("", description="SASL user name")
    kafka_sasl_password: SecretStr = Field(SecretStr(""), description="SASL password (prefer IOC_KAFKA_SASL_PASSWORD_FILE)")
    kafka_ssl_cafile: str = Field("", description="PEM bundle of the CAs that sign the brokers (empty = system CAs)")
    kafka_ssl_certfile: str = Field("", description="client certificate (PEM) for mutual TLS (empty = none)")
    kafka_ssl_keyfile: str = Field("", description="private key (PEM) of the client certificate")
    kafka_ssl_key_password: SecretStr = Field(SecretStr(""), description="password of an encrypted client key")
    kafka_ssl_check_hostname: bool = Field(True, description="verify that the broker certificate names the host")

    # --- TimescaleDB -----------------------------------------------------------
    database_url: SecretStr = Field(
        SecretStr("postgresql://ioc@127.0.0.1:5433/ioc"), description="PostgreSQL/TimescaleDB URL"
    )

    # --- Worker ----------------------------------------------------------------
    batch_max: int = Field(2000, ge=1, description="most Kafka messages a worker takes into one batch (one transaction); a message may hold a JSON array of events")
    batch_linger_s: float = Field(0.1, ge=0, le=5, description="while a batch has fewer than IOC_BATCH_MAX messages, how long the worker waits for more after its first (a trickle stored in a few transactions, not one per message)")
    batch_max_bytes: int = Field(2 << 20, ge=1, description="most bytes of messages a worker takes into one batch: a backlog of large JSON arrays is decoded a few MiB at a time (bounds the worker's memory)")
    batch_max_events: int = Field(10_000, ge=1, description="most events one transaction writes: a batch of large JSON arrays is written in several (bounds the worker's memory)")
    max_message_bytes: int = Field(1_000_000, ge=1024, description="larger Kafka messages are dead-lettered")
    max_events_per_message: int = Field(10_000, ge=1, description="longer JSON arrays are dead-lettered")
    future_tolerance_s: float = Field(300, ge=0, description="events further in the future are rejected")
    max_event_age_s: float = Field(400 * 86400, gt=0, description="events older than this are rejected")
    late_allowance_s: float = Field(600, ge=0, description="events this far behind the newest one are late (unless already stored: then duplicates)")
    metrics_port: int = Field(9464, ge=0, le=65535, description="Prometheus /metrics port of the worker (0 = off)")
    metrics_host: str = Field("127.0.0.1", description="address the metrics server binds")
    retention_days: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_RETENTION_DAYS),
        description="days kept per hypertable, JSON (e.g. {\"health_event\": 7}); merged with the defaults",
    )
    housekeeping_interval_s: float = Field(3600, gt=0, description="how often retention and maintenance expansion run")
    detect_interval_s: float = Field(15, gt=0, description="how often the security detectors run")
    detect_max_share: float = Field(0.25, gt=0, le=1, description="the largest share of the time the security "
                                    "detectors may take: after a run of d seconds the next waits at least "
                                    "d / share (a flood makes their reads long)")
    rollup_interval_s: float = Field(60, gt=0, description="how often the worker brings the hourly and daily "
                                     "rollups up to date with what it stored")
    sink_retry_max_s: float = Field(30, gt=0, description="longest wait between retries of a failed write")
    agent_degraded_s: float = Field(900, gt=0, description="a worker shows as degraded for this long after one "
                                    "of its agents crashed (Faust restarts it)")

    # --- Alerting -------------------------------------------------------------------
    alert_rules: str = Field(str(PACKAGE_ROOT / "deploy" / "rules" / "*.yaml"),
                             description="alert rule files (a glob, or several separated by commas)")
    alert_interval_s: float = Field(10, gt=0, description="how often the alert engine evaluates")
    alerts_metrics_port: int = Field(9466, ge=0, le=65535, description="Prometheus port of `ioc alerts run` (0 = off)")
    incident_window_s: float = Field(900, gt=0, le=86400,
                                     description="a firing alert joins an incident holding an alert of the same rule "
                                     "fired within this many seconds; a resolved incident reopens within it")
    report_org: str = Field("", description="reporting organisation named in incident reports (empty = the province "
                            "file's operator.name, else the IOC centre of the province)")
    report_org_address: str = Field("", description="its address in incident reports (empty = the province file's "
                                    "operator.address)")
    report_contact: str = Field("", description="contact person of incident reports (empty = the province file's "
                                "operator.contact)")
    report_phone: str = Field("", description="contact telephone of incident reports (empty = the province file's "
                              "operator.phone)")
    report_email: str = Field("", description="contact e-mail of incident reports (empty = the province file's "
                              "operator.email)")

    # --- Notifications (agents/alerting/notify) --------------------------------------------
    oncall_file: Path = Field(PACKAGE_ROOT / "deploy" / "oncall.yaml",
                              description="on-call receivers and escalation levels (YAML)")
    alertmanager_url: str = Field("http://127.0.0.1:9193",
                                  description="Alertmanager base URL (receivers of channel alertmanager default to it)")
    alertmanager_webhook_url: str = Field(
        "", description="where the local stack's Alertmanager sends its notifications (deploy/stack.sh; "
        "empty = the demo receiver, {demo_receiver_url}/alertmanager)")
    alert_page_url: str = Field("", description="dashboard page of one alert, {id} = alert id (Alertmanager "
                                "generatorURL, links in messages; empty = http://127.0.0.1:IOC_DASH_PORT/alerts/{id})")
    runbook_dir: Path = Field(PACKAGE_ROOT / "docs", description="folder of runbooks.md and runbooks.vi.md, served "
                              "by the dashboard at /runbooks and linked from every alert")
    alertmanager_resend_s: float = Field(60, gt=0, description="how often open alerts are re-sent to Alertmanager")
    alertmanager_resolved_for_s: float = Field(900, ge=0, description="resolved alerts are re-sent this long")
    alertmanager_end_margin_s: float = Field(
        240, gt=0, description="endsAt of a firing alert is now + this, so it resolves if re-sends stop")
    notify_metrics_port: int = Field(9467, ge=0, le=65535, description="Prometheus port of `ioc notify run` (0 = off)")
    notify_timeout_s: float = Field(10, gt=0, description="timeout of one delivery (HTTP, SMTP)")
    notify_batch: int = Field(20, ge=1, description="outbox rows one dispatcher round claims")
    notify_poll_s: float = Field(1.0, gt=0, description="dispatcher wait when nothing is due")
    notify_backoff_base_s: float = Field(5, gt=0, description="first retry delay; doubles per attempt")
    notify_backoff_max_s: float = Field(600, gt=0, description="longest retry delay")
    notify_max_attempts: int = Field(30, ge=1, description="a delivery is given up as failed after this many attempts")
    notify_max_age_s: float = Field(86400, gt=0, description="…or when it is older than this")
    webhook_secret: SecretStr = Field(SecretStr(""),
                                      description="HMAC-SHA256 key signing webhook bodies (empty = unsigned)")
    smtp_host: str = Field("127.0.0.1", description="SMTP server for e-mail notifications")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port")
    smtp_tls: str = Field("starttls", pattern="^(none|starttls|ssl)$", description="none | starttls | ssl")
    smtp_user: str = Field("", description="SMTP login (empty = no authentication)")
    smtp_password: SecretStr = Field(SecretStr(""), description="SMTP password")
    smtp_from: str = Field("IOC <ioc@localhost>", description="From: of notification e-mails (the centre's address)")
    telegram_api_url: str = Field("https://api.telegram.org", description="Telegram Bot API base URL")
    telegram_token: SecretStr = Field(SecretStr(""), description="Telegram bot token")
    zalo_access_token: SecretStr = Field(SecretStr(""), description="Zalo Official Account access token (channels "
                                                                    "zalo and zalo-oa)")
    zalo_zns_url: str = Field("https://business.openapi.zalo.me/message/template",
                              description="Zalo ZNS template-message endpoint (channel zalo)")
    zalo_oa_url: str = Field("https://openapi.zalo.me/v3.0/oa/message/cs",
                             description="Zalo Official Account message endpoint (channel zalo-oa)")
    zalo_template_id: str = Field("", description="the approved ZNS template of IOC alerts (channel zalo)")
    telegram_poll_s: int = Field(10, ge=0, le=50, description="long-polling wait of `ioc notify run` for presses "
                                   "of the acknowledge button (getUpdates; 0 = this notifier does not poll)")
    ack_link_ttl_s: float = Field(4 * 3600, ge=0, description="acknowledge links in e-mails and acknowledge buttons "
                                  "in Telegram work this long (0 = notifications carry none)")
    ack_link_key: SecretStr = Field(SecretStr(""), description="key signing acknowledge links and buttons, the same "
                                    "for the notifier and the dashboard (empty = generated once into IOC_RUN_DIR)")
    soc_mode: str = Field("off", pattern="^(off|webhook|kafka)$",
                          description="layer-4 forwarding of security findings: off | webhook | kafka")
    soc_url: str = Field("", description="upstream SOC webhook URL (soc_mode=webhook)")
    soc_secret: SecretStr = Field(SecretStr(""), description="HMAC-SHA256 key signing SOC webhook bodies")
    soc_kafka_bootstrap: str = Field("", description="upstream SOC Kafka servers (soc_mode=kafka; empty = ours)")
    soc_topic: str = Field("soc.security-findings", description="upstream SOC topic (soc_mode=kafka)")
    soc_source: str = Field("kien-giang-ioc", description="who we are to the upstream SOC")
    soc_batch: int = Field(200, ge=1, description="findings forwarded per request")
    soc_heartbeat_s: float = Field(60, gt=0, description="idle link: a heartbeat is sent this often")
    soc_retry_max_s: float = Field(60, gt=0, description="longest wait between retries of the SOC link")

    # --- Dashboard ----------------------------------------------------------------
    dash_host: str = Field("127.0.0.1", description="address the dashboard binds")
    dash_port: int = Field(8050, ge=1, le=65535, description="dashboard port")
    dash_refresh_s: float = Field(2.0, gt=0, description="wall refresh period (one DB read per period)")
    stale_after_s: float = Field(60, gt=0, description="data older than this shows the stale banner")
    dash_session_key: SecretStr = Field(
        SecretStr(""), description="key of the console's session tokens (empty = generated once into IOC_RUN_DIR)")
    dash_secure_cookies: bool = Field(False, description="mark session cookies Secure (set to 1 behind HTTPS)")
    dash_session_idle_s: float = Field(12 * 3600, gt=0, description="a console session ends after this long idle")
    dash_login_max_failures: int = Field(5, ge=1, description="failed logins per user and per address before 429")
    dash_login_window_s: float = Field(300, gt=0, description="…counted over this many seconds")
    login_attempt_retention_days: int = Field(30, ge=1, description="days sign-in attempts are kept (then pruned)")
    dash_multiproc_dir: Path | None = Field(
        None, description="folder where gunicorn's processes share their /metrics (set by ioc_dash/gunicorn_conf.py; "
        "empty = one process, its own metrics)")
    dash_proxy_hops: int = Field(0, ge=0, le=5,
                                 description="reverse proxies in front of the dashboard whose X-Forwarded-* to trust")
    replay_dir: Path | None = Field(None, description="recordings the console may replay (empty = IOC_RUN_DIR/recordings)")
    snapshot_dir: Path | None = Field(None, description="camera snapshots whose reference is a relative path "
                                      "(empty = IOC_RUN_DIR/snapshots); http(s) references are fetched by the dashboard")
    snapshot_days: int = Field(30, ge=1, le=3650, description="days a track's snapshot is kept: older ones are not shown, and the worker deletes their files from IOC_SNAPSHOT_DIR")
    night_watch_hours: str = Field("19-6", pattern=r"^(\d{1,2}-\d{1,2})?$",
                                   description="local hours of the border page's night watch, start-end "
                                   "(empty = none): zones first, activity above the usual level marked")
    dash_wall_snapshots: bool = Field(False, description="wall screens (tokens) may view snapshots too (1); "
                                      "otherwise only signed-in operators and admins")
    status_page_file: Path = Field(PACKAGE_ROOT / "deploy" / "status_page.yaml",
                                   description="the public status page /status: the services it shows (systems of "
                                   "the province file) and their public names (YAML)")
    status_page_cache_s: float = Field(30, ge=1, le=3600, description="/status reads the database at most once per "
                                       "this many seconds per process; browsers and proxies may keep a copy as long")

    # --- Data files and simulators ------------------------------------------------
    province_file: Path = Field(DEFAULT_PROVINCE_FILE, description="province description (YAML)")
    api_rate_per_min: int = Field(60, ge=1, le=100_000, description="requests a read-API token may make per minute "
                                  "(then 429 with Retry-After)")
    report_receiver: str = Field("", description="the on-call file's e-mail receiver that scheduled reports go to "
                                 "(empty = archived, not e-mailed)")
    report_langs: str = Field("vi", pattern=r"^(vi|en)(,(vi|en))?$",
                              description="languages the scheduled reports are made in, comma separated (vi, en)")
    sla_file: Path = Field(PACKAGE_ROOT / "agents" / "indicators" / "data" / "sla.yaml",
                           description="service-level targets per system and how a month is counted (YAML)")
    plan_dir: Path = Field(PACKAGE_ROOT / "agents" / "indicators" / "data" / "plans",
                           description="folder of the plans' target files, one plan and its period each "
                           "(docs/operations.md, plans)")
    sim_rate: float = Field(200, gt=0, le=1_000_000, description="events/s of `ioc simulate`, and of the background of `ioc demo` "
                            "and `ioc drill`")
    sim_seed: int = Field(2023, description="random seed of the simulators: the same seed gives the same feed")
    sim_families: str = Field("", description="feed families simulated, comma separated (empty = all)")
    sim_batch_above: float = Field(200, description="above this rate `ioc simulate` sends events as JSON arrays")
    sim_metrics_port: int = Field(0, ge=0, le=65535, description="Prometheus port of `ioc simulate` (0 = off)")
    demo_sim_metrics_port: int = Field(9465, ge=1, le=65535,
                                       description="Prometheus port of the simulator `ioc demo` runs (scraped by the "
                                       "local stack's Prometheus)")
    demo_receiver_port: int = Field(9194, ge=1, le=65535,
                                    description="port of the local webhook receiver `ioc demo` runs: the on-call "
                                    "file's {demo_receiver_url} and the local Alertmanager's webhook post to it")
    record_families: str = Field("", description="feed families `ioc record` records, comma separated (empty = all)")
    replay_speed: str = Field("1", description="`ioc replay`: a recording's spacing divided by this factor, or 'max'")
    replay_families: str = Field("", description="feed families `ioc replay` sends, comma separated (empty = all)")
    drill_speed: float = Field(1.0, gt=0, description="`ioc drill` plays its timeline this many times faster")
    drill_by: str = Field("", description="who runs `ioc drill`, recorded with the run (empty = the login name)")
    schemas_out: Path = Field(Path("docs/schemas"), description="folder `ioc schemas` writes the JSON Schemas to")
    run_dir: Path = Field(PACKAGE_ROOT / ".run", description="state of the local stack and generated keys")
    log_level: str = Field("INFO", description="log level of every process")

    @field_validator("kafka_bootstrap")
    @classmethod
    def _bootstrap_not_empty(cls, value: str) -> str:
        servers = [s.strip() for s in value.split(",") if s.strip()]
        if not servers or any(":" not in s for s in servers):
            raise ValueError(f"expected host:port[,host:port…], got {value!r}")
        return ",".join(servers)

    @field_validator("kafka_security_protocol", "kafka_sasl_mechanism")
    @classmethod
    def _kafka_choice(cls, value: str, info) -> str:
        value = value.strip().upper()
        if info.field_name == "kafka_security_protocol":
            value, allowed = value.replace("-", "_"), KAFKA_SECURITY_PROTOCOLS
        else:
            value, allowed = value.replace("_", "-"), KAFKA_SASL_MECHANISMS
        if value not in allowed:
            raise ValueError(f"expected one of {' | '.join(allowed)}, got {value!r}")
        return value

    @model_validator(mode="after")
    def _kafka_security_complete(self) -> Settings:
        protocol = self.kafka_security_protocol
        if protocol.startswith("SASL_") and not (self.kafka_sasl_username and self.kafka_sasl_password.get_secret_value()):
            raise ValueError(f"IOC_KAFKA_SECURITY_PROTOCOL={protocol} needs IOC_KAFKA_SASL_USERNAME and "
                             "IOC_KAFKA_SASL_PASSWORD (or IOC_KAFKA_SASL_PASSWORD_FILE)")
        tls_files = [n for n in ("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile") if getattr(self, n)]
        if tls_files and protocol not in ("SSL", "SASL_SSL"):
            raise ValueError(f"{', '.join('IOC_' + n.upper() for n in tls_files)} set but "
                             f"IOC_KAFKA_SECURITY_PROTOCOL={protocol}; use SSL or SASL_SSL, or unset them")
        if self.kafka_ssl_keyfile and not self.kafka_ssl_certfile:
            raise ValueError("IOC_KAFKA_SSL_KEYFILE needs IOC_KAFKA_SSL_CERTFILE (the certificate of that key)")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Explicit values, then ``IOC_<NAME>``, then ``IOC_<NAME>_FILE``."""
        return init_settings, env_settings, FileSettingsSource(settings_cls), dotenv_settings, file_secret_settings

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, value: dict[str, int]) -> dict[str, int]:
        merged = {**DEFAULT_RETENTION_DAYS, **value}
        bad = {k: v for k, v in merged.items() if not isinstance(v, int) or v < 1}
        if bad:
            raise ValueError(f"retention must be at least 1 day: {bad}")
        return merged

    @property
    def bootstrap_servers(self) -> list[str]:
        return self.kafka_bootstrap.split(",")

    def alert_rule_files(self) -> list[Path]:
        files: list[Path] = []
        for part in (p.strip() for p in self.alert_rules.split(",") if p.strip()):
            path = Path(part)
            matches = sorted(path.parent.glob(path.name)) if any(c in path.name for c in "*?[") else [path]
            files.extend(matches)
        return files

    @property
    def dsn(self) -> str:
        return self.database_url.get_secret_value()

    @property
    def alert_page(self) -> str:
        """``alert_page_url``, by default the alert page of the local wall (``{id}`` = alert id)."""
        return self.alert_page_url or f"http://127.0.0.1:{self.dash_port}/alerts/{{id}}"

    @property
    def demo_receiver_url(self) -> str:
        """Base URL of the demo's local webhook receiver (no trailing slash)."""
        return f"http://127.0.0.1:{self.demo_receiver_port}"

    def template_values(self) -> dict[str, str]:
        """What a configuration file may name as ``{name}``: every setting that is not a secret,
        ``demo_receiver_url``, and ``alert_page_url`` and ``alertmanager_webhook_url`` with their defaults
        filled in."""
        values = {name: str(getattr(self, name)) for name, field in type(self).model_fields.items()
                  if field.annotation is not SecretStr and getattr(self, name) is not None}
        values.update(demo_receiver_url=self.demo_receiver_url, alert_page_url=self.alert_page,
                      alertmanager_webhook_url=self.alertmanager_webhook_url or f"{self.demo_receiver_url}/alertmanager")
        return values

    @property
    def recordings_dir(self) -> Path:
        return self.replay_dir or self.run_dir / "recordings"

    @property
    def snapshots_dir(self) -> Path:
        """The folder of snapshots referenced by a relative path."""
        return self.snapshot_dir or self.run_dir / "snapshots"

    def to_env(self) -> dict[str, str]:
        """``IOC_*`` variables that rebuild these settings in a child process (secrets included)."""
        env = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if hasattr(value, "get_secret_value"):
                value = value.get_secret_value()
            if value is None:
                continue
            env[f"IOC_{name.upper()}"] = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
        return env


_URL_PASSWORD = re.compile(r"://([^:/@]*):[^@]*@")
_QUERY_PASSWORD = re.compile(r"([?&](?:password|sslpassword)=)[^&]*")


def _shown(value: Any, *, secret: bool) -> str:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
        if secret and value:  # a URL keeps all but its password
            if "://" not in value:
                return "(secret)"
            return _QUERY_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"://\1:***@", value))
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)


def _plain(value: Any) -> Any:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def setting_origin(name: str, settings: Settings, options: frozenset[str] = frozenset()) -> str:
    """Where the value of setting ``name`` came from: ``option`` (a command-line option, one of
    ``options``, or a value given in code), ``environment`` (``IOC_<NAME>``), ``file PATH``
    (``IOC_<NAME>_FILE``) or ``default``."""
    if name in options:
        return "option"
    variables = {k.upper(): k for k in os.environ}
    var = f"IOC_{name.upper()}"
    if var in variables:
        return "environment"
    if f"{var}_FILE" in variables:
        return f"file {os.environ[variables[var + '_FILE']]}"
    field = Settings.model_fields[name]
    if _plain(getattr(settings, name)) != _plain(field.get_default(call_default_factory=True)):
        return "option"
    return "default"


def settings_in_effect(settings: Settings, options: frozenset[str] = frozenset()) -> list[tuple[str, str, str, str]]:
    """(variable, value, origin, description) for every setting: the value ``settings`` holds (a
    secret shown as ``(secret)``, a URL without its password) and where it came from
    (``setting_origin``)."""
    rows = []
    for name, field in Settings.model_fields.items():
        rows.append((f"IOC_{name.upper()}", _shown(getattr(settings, name), secret=True),
                     setting_origin(name, settings, options), field.description or ""))
    return rows


def describe_settings() -> list[tuple[str, str, str]]:
    """(variable, default, description) for every setting, for ``--help`` and docs."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if isinstance(default, SecretStr):
            default = default.get_secret_value()
        shown = json.dumps(default) if isinstance(default, (dict, list)) else str(default)
        rows.append((f"IOC_{name.upper()}", shown, field.description or ""))
    return rows
