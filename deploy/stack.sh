#!/usr/bin/env bash
# Native local stack for the IOC monitor (no Docker):
#   Kafka (single-node KRaft) + PostgreSQL with TimescaleDB (Apache edition) + Alertmanager
#   + Prometheus (scrapes the local processes, evaluates deploy/prometheus/rules/).
#
#   deploy/stack.sh {install|start|stop|status} [kafka|postgres|alertmanager|prometheus|all]
#   eval "$(deploy/stack.sh env)"      # IOC_RUN_DIR, IOC_KAFKA_BOOTSTRAP, IOC_DATABASE_URL, IOC_ALERTMANAGER_URL
#
# Everything listens on 127.0.0.1 only; all state lives in ${IOC_RUN_DIR:-<repo>/.run}.
# Ports of the stack: IOC_KAFKA_PORT (9092), IOC_KAFKA_CONTROLLER_PORT (9093), IOC_PG_PORT (5433),
#        IOC_ALERTMANAGER_PORT (9193), IOC_PROMETHEUS_PORT (9190).
# What Alertmanager and Prometheus talk to comes from the IOC settings in effect (`ioc settings`,
# read with the Python environment ${VENV:-<repo>/.venv}): Alertmanager's webhook goes to
# IOC_ALERTMANAGER_WEBHOOK_URL (default: the demo receiver on IOC_DEMO_RECEIVER_PORT), Prometheus
# scrapes IOC_METRICS_PORT, IOC_DEMO_SIM_METRICS_PORT, IOC_ALERTS_METRICS_PORT,
# IOC_NOTIFY_METRICS_PORT and IOC_DASH_PORT.  A second stack: README.md, "Running a second stack".
# Templates: deploy/kafka/*.in, deploy/kafka/*log4j.properties, deploy/postgres/*.in,
#            deploy/alertmanager/alertmanager.yml, deploy/prometheus/local.yml.in.
set -Eeuo pipefail

DEPLOY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$DEPLOY")
RUN=$(realpath -m -- "${IOC_RUN_DIR:-$REPO/.run}")
PY=$(cd "$REPO" && realpath -m -- "${VENV:-.venv}")/bin/python
KAFKA_PORT=${IOC_KAFKA_PORT:-9092}
KAFKA_CTRL_PORT=${IOC_KAFKA_CONTROLLER_PORT:-9093}
PG_PORT=${IOC_PG_PORT:-5433}
AM_PORT=${IOC_ALERTMANAGER_PORT:-9193}
PROM_PORT=${IOC_PROMETHEUS_PORT:-9190}
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$DEPLOY/kafka/pom.xml")
KDIR=$RUN/kafka
PGDIR=$RUN/pg
PGDATA=$PGDIR/data
AMDIR=$RUN/alertmanager
PROMDIR=$RUN/prometheus
TRIXIE_SRC=/etc/apt/sources.list.d/ioc-trixie-src.sources
export DEBIAN_FRONTEND=noninteractive

say() { printf 'stack: %s\n' "$*"; }
die() { # message [hint lines...]
  printf 'stack: FAILED: %s\n' "$1" >&2; shift
  local l; for l in "$@"; do printf 'stack:   %s\n' "$l" >&2; done
  exit 1
}
fail_log() { # log message [hint lines...]
  local log=$1; shift
  printf 'stack: --- last lines of %s ---\n' "$log" >&2
  tail -n 20 "$log" 2>/dev/null | sed 's/^/stack: | /' >&2 || true
  die "$@"
}
trap 'die "unexpected error at deploy/stack.sh line $LINENO: $BASH_COMMAND" "re-run with: bash -x deploy/stack.sh ..."' ERR

# Debian 12 -> PostgreSQL 15 (TimescaleDB built from trixie source);
# Debian 13 -> PostgreSQL 17 with the packaged postgresql-17-timescaledb.
DEB_MAJOR=$(cut -d. -f1 /etc/debian_version 2>/dev/null || echo 0)
if [[ ! $DEB_MAJOR =~ ^[0-9]+$ ]]; then  # testing/sid say e.g. "trixie/sid"
  DEB_MAJOR=$(. /etc/os-release 2>/dev/null; case ${VERSION_CODENAME:-} in trixie) echo 13 ;; *) echo 12 ;; esac)
fi
PGV=${IOC_PG_VERSION:-$( ((DEB_MAJOR >= 13)) && echo 17 || echo 15)}
PGBIN=/usr/lib/postgresql/$PGV/bin

# ---------------------------------------------------------------- helpers
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $s != Z* ]]; }  # zombies count as dead
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
stop_service() { # name pid-function pidfile seconds: SIGTERM, wait up to that long, then SIGKILL (none running: a stale pid file goes)
  local name=$1 pidfile=$3 secs=$4 pid i
  if ! pid=$("$2"); then rm -f "$pidfile"; say "$name not running"; return 0; fi
  say "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 5; i++)); do alive "$pid" || break; sleep 0.2; done
  if alive "$pid"; then
    say "$name still alive after $secs s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true; sleep 1
  fi
  rm -f "$pidfile"; say "$name stopped"
}
status_service() { # name pid-function ready-function url width: running, or starting / stopped (3); the state padded to width
  local name=$1 url=$4 state pid
  if pid=$("$2") && "$3"; then state=running
  elif [[ -n ${pid:-} ]]; then state=starting
  else state=stopped; fi
  state=$(printf "%-${5}s" "$state")
  if [[ -n ${pid:-} ]]; then say "$name $state pid $pid  $url"; else say "$name $state $url"; fi
  [[ $state == running* ]] || return 3
}
render() { # template output KEY=value...  (replaces @KEY@)
  local tpl=$1 out=$2 kv args=(-e ""); shift 2
  for kv; do args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${args[@]}" "$tpl" >"$out"
}
wait_ready() { # name pid ready-function log url t0: until ready, failing when the process dies or after 30 s
  local name=$1 pid=$2 ready=$3 log=$4 url=$5 t0=$6 deadline=$((SECONDS + 30))
  until "$ready"; do
    alive "$pid" || fail_log "$log" "$name exited during startup" "then: deploy/stack.sh start $name"
    ((SECONDS < deadline)) || fail_log "$log" "$name not ready on $url within 30 s"
    sleep 0.3
  done
  say "$name ready on $url (pid $pid, $((SECONDS - t0)) s)"
}

settings_get() { # names…: the IOC settings in effect, one a line (`ioc settings --get`), from this checkout
  [[ -x $PY ]] || die "no Python environment at ${PY%/bin/python}" "run: make setup (or set VENV to one with the ioc package)"
  PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m streams.cli.main settings --get "$@" 2>"$RUN/settings.log" ||
    fail_log "$RUN/settings.log" "the IOC settings in effect are invalid" "check the IOC_* variables: ioc settings"
}

CONFIG_CHANGED=
adopt_config() { # new target problem fix -- checker…: the checker must accept new (its output in
  # check-config.log beside target); new replaces target when they differ, and CONFIG_CHANGED says so
  local new=$1 target=$2 problem=$3 fix=$4 log; log=$(dirname "$2")/check-config.log
  shift 5
  "$@" >"$log" 2>&1 || fail_log "$log" "$problem" "$fix"
  CONFIG_CHANGED=
  if cmp -s "$new" "$target"; then rm -f "$new"; else mv "$new" "$target"; CONFIG_CHANGED=1; fi
}

start_daemon() { # name dir port port-variable url pid-function ready-function reload -- command…: a process of
  # ours in dir (its log dir/name.log, pid dir/name.pid); a running one is sent SIGHUP when reload is set
  local name=$1 dir=$2 port=$3 portvar=$4 url=$5 pidfn=$6 readyfn=$7 reload=$8 pid t0=$SECONDS
  shift 9
  if pid=$("$pidfn"); then
    if [[ -n $reload ]]; then say "$name: config (re)loaded (pid $pid)"; kill -HUP "$pid"; fi
    if "$readyfn"; then say "$name already running (pid $pid, $url)"; return 0; fi
    say "$name (pid $pid) is still starting; waiting"
  else
    if port_open "$port"; then die "127.0.0.1:$port is used by another process" "find it: ss -ltnp 'sport = :$port'; stop it or set $portvar"; fi
    say "starting $name on $url"
    (cd "$dir" && exec setsid nohup "$@" >>"$dir/$name.log" 2>&1 </dev/null) &
    pid=$!
    echo "$pid" >"$dir/$name.pid"
  fi
  wait_ready "$name" "$pid" "$readyfn" "$dir/$name.log" "$url" "$t0"
}

need_root() { ((EUID == 0)) || die "$1 needs root" "run: sudo deploy/stack.sh $CMD $TARGET"; }

APT_UPDATED=
apt_update() {
  [[ -z $APT_UPDATED ]] || return 0
  need_root "apt-get update"
  say "apt-get update"
  timeout 600 apt-get update -qq >>"$RUN/apt.log" 2>&1 ||
    fail_log "$RUN/apt.log" "apt-get update failed" "check network access to deb.debian.org"
  APT_UPDATED=1
}
apt_ensure() { # packages... (installs only the missing ones)
  local p missing=()
  for p; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  need_root "installing ${missing[*]}"
  apt_update
  say "apt-get install ${missing[*]}"
  timeout 1200 apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$RUN/apt.log" 2>&1 ||
    fail_log "$RUN/apt.log" "apt-get install ${missing[*]} failed" "fix apt (see $RUN/apt.log) and re-run"
  APT_INSTALLED=("${missing[@]}")
}
APT_INSTALLED=()

# ------------------------------------------------------------------ kafka
KJAVA=(java -Dlog4j.configuration="file:$DEPLOY/kafka/tools-log4j.properties" -cp "$KDIR/libs/*")  # CLI tools
kafka_pid() { # prints the pid when our broker process is alive
  local p; p=$(cat "$KDIR/kafka.pid" 2>/dev/null) || return 1
  [[ $p =~ ^[0-9]+$ ]] && alive "$p" && grep -qa kafka.Kafka "/proc/$p/cmdline" && echo "$p"
}
kafka_fail() {
  tail -n 5 "$KDIR/logs/kafka.out" 2>/dev/null | sed 's/^/stack: | /' >&2 || true
  fail_log "$KDIR/logs/server.log" "$1" "full logs: $KDIR/logs/  (server.log, kafka.out)" \
    "then: deploy/stack.sh stop kafka && deploy/stack.sh start kafka"
}

install_kafka() {
  local pk=()
  command -v java >/dev/null || pk+=(default-jre-headless)
  command -v mvn >/dev/null || pk+=(maven)
  if ((${#pk[@]})); then apt_ensure "${pk[@]}"; fi
  [[ ! -f $KDIR/libs/kafka_2.13-$KAFKA_VERSION.jar ]] || return 0
  say "fetching Kafka $KAFKA_VERSION jars from Maven Central (mvn, ~10 s)…"
  mkdir -p "$KDIR"; rm -rf "$KDIR/libs.tmp"
  timeout 600 mvn -B -q -f "$DEPLOY/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$KDIR/libs.tmp" -DincludeScope=runtime >"$KDIR/mvn.log" 2>&1 ||
    fail_log "$KDIR/mvn.log" "mvn could not fetch the Kafka jars" "check access to Maven Central, then re-run"
  rm -rf "$KDIR/libs"; mv "$KDIR/libs.tmp" "$KDIR/libs"
}

start_kafka() {
  install_kafka
  local pid t0=$SECONDS id p
  if pid=$(kafka_pid); then
    if port_open "$KAFKA_PORT"; then say "kafka already running (pid $pid, 127.0.0.1:$KAFKA_PORT)"; return 0; fi
    say "kafka (pid $pid) is still starting; waiting"
  else
    for p in "$KAFKA_PORT" "$KAFKA_CTRL_PORT"; do
      if port_open "$p"; then die "127.0.0.1:$p is used by another process" "find it: ss -ltnp 'sport = :$p'; stop it or set IOC_KAFKA_PORT / IOC_KAFKA_CONTROLLER_PORT"; fi
    done
    mkdir -p "$KDIR/data" "$KDIR/logs"
    render "$DEPLOY/kafka/server.properties.in" "$KDIR/server.properties" \
      PORT="$KAFKA_PORT" CONTROLLER_PORT="$KAFKA_CTRL_PORT" DATA_DIR="$KDIR/data"
    if [[ ! -f $KDIR/data/meta.properties ]]; then
      id=$(timeout 60 "${KJAVA[@]}" kafka.tools.StorageTool random-uuid) || die "kafka StorageTool random-uuid failed" "is java working? try: java -version"
      say "formatting Kafka storage (cluster id $id)"
      timeout 120 "${KJAVA[@]}" kafka.tools.StorageTool format -t "$id" -c "$KDIR/server.properties" >"$KDIR/logs/format.log" 2>&1 ||
        fail_log "$KDIR/logs/format.log" "kafka storage format failed" "check $KDIR/server.properties (from deploy/kafka/server.properties.in); if the data is corrupt: rm -rf $KDIR/data"
    fi
    say "starting kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT"
    # setsid+nohup: the broker survives this shell and its terminal.
    (cd "$KDIR" && exec setsid nohup java -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
      -Dkafka.logs.dir="$KDIR/logs" -Dlog4j.configuration="file:$DEPLOY/kafka/log4j.properties" \
      -cp "$KDIR/libs/*" kafka.Kafka "$KDIR/server.properties" >>"$KDIR/logs/kafka.out" 2>&1 </dev/null) &
    pid=$!
    echo "$pid" >"$KDIR/kafka.pid"
  fi
  # 90 s without progress, not 90 s in all: on a loaded machine a broker that keeps writing its log
  # is starting slowly, not stuck (a JVM tool alone can take 20 s there); 10 minutes at most
  local deadline=$((SECONDS + 90)) limit=$((SECONDS + 600)) logged=-1 size
  until port_open "$KAFKA_PORT" && timeout 60 "${KJAVA[@]}" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "127.0.0.1:$KAFKA_PORT" --list >/dev/null 2>&1; do
    alive "$pid" || kafka_fail "kafka exited during startup"
    size=$(stat -c %s "$KDIR/logs/server.log" 2>/dev/null || echo 0)
    if ((size != logged)); then logged=$size; deadline=$((SECONDS + 90)); fi
    ((SECONDS < deadline && SECONDS < limit)) ||
      kafka_fail "kafka did not answer on 127.0.0.1:$KAFKA_PORT (its log unchanged for 90 s, or 10 min in all)"
    sleep 1
  done
  say "kafka ready on 127.0.0.1:$KAFKA_PORT (pid $pid, $((SECONDS - t0)) s)"
}

stop_kafka() { stop_service kafka kafka_pid "$KDIR/kafka.pid" 30; }

status_kafka() {
  local pid
  if pid=$(kafka_pid) && port_open "$KAFKA_PORT"; then
    say "kafka     running   pid $pid  127.0.0.1:$KAFKA_PORT (controller :$KAFKA_CTRL_PORT)"
  elif [[ -n ${pid:-} ]]; then say "kafka     starting  pid $pid  127.0.0.1:$KAFKA_PORT"; return 3
  else say "kafka     stopped   127.0.0.1:$KAFKA_PORT"; return 3; fi
}

# --------------------------------------------------------------- postgres
as_pg() { if ((EUID == 0)); then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }
pg_own() { if ((EUID == 0)); then chown postgres:postgres "$@"; fi; }
pg_running() { [[ -f $PGDATA/PG_VERSION ]] && as_pg "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }
pg_pid() { head -n 1 "$PGDATA/postmaster.pid" 2>/dev/null || echo '?'; }
psql_as() { # role db [psql args...]
  local role=$1 db=$2; shift 2
  timeout 60 "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U "$role" -d "$db" "$@"
}

add_trixie_src() { # deb-src entry for `apt-get source timescaledb` (Debian 12 only)
  [[ ! -f $TRIXIE_SRC ]] || return 0
  need_root "adding the trixie deb-src entry"
  say "adding Debian trixie deb-src entry ($TRIXIE_SRC) for the TimescaleDB source"
  printf '%s\n' 'Types: deb-src' 'URIs: http://deb.debian.org/debian' 'Suites: trixie' \
    'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' >"$TRIXIE_SRC"
  APT_UPDATED=  # the new source needs a fresh index
}

build_timescaledb() {
  local b=$RUN/build/timescaledb dir ver t0=$SECONDS
  add_trixie_src
  [[ $(apt-cache showsrc timescaledb 2>/dev/null) == *"Package: timescaledb"* ]] || apt_update  # no deb-src index yet
  rm -rf "$b"; mkdir -p "$b"
  say "fetching TimescaleDB source (apt-get source timescaledb)"
  (cd "$b" && timeout 300 apt-get source timescaledb) >>"$b/build.log" 2>&1 ||
    fail_log "$b/build.log" "apt-get source timescaledb failed" "check $TRIXIE_SRC, run apt-get update, re-run"
  dir=$(find "$b" -mindepth 1 -maxdepth 1 -type d -name 'timescaledb-*' | head -n 1)
  ver=$(sed -n 's/^version = //p' "$dir/version.config")
  say "building TimescaleDB $ver for PostgreSQL $PGV (about a minute)…"
  # The Debian +dfsg tarball has no tsl/ directory, hence APACHE_ONLY.
  (cd "$dir" && BUILD_FORCE_REMOVE=true ./bootstrap -DPG_CONFIG="$PGBIN/pg_config" \
    -DCMAKE_BUILD_TYPE=Release -DAPACHE_ONLY=ON -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF \
    -DWARNINGS_AS_ERRORS=OFF -DUSE_TELEMETRY=OFF -DSEND_TELEMETRY_DEFAULT=OFF &&
    timeout 1200 make -C build -j"$(nproc)" && make -C build install) >>"$b/build.log" 2>&1 ||
    fail_log "$b/build.log" "TimescaleDB build failed" "fix the cause above, then: deploy/stack.sh install postgres"
  say "TimescaleDB $ver installed into $("$PGBIN/pg_config" --pkglibdir) ($((SECONDS - t0)) s)"
}

install_postgres() {
  local pkgs=("postgresql-$PGV") need_ts=
  [[ -f /usr/share/postgresql/$PGV/extension/timescaledb.control ]] || need_ts=1
  if ((DEB_MAJOR >= 13)); then pkgs+=("postgresql-$PGV-timescaledb"); need_ts=
  else pkgs+=("postgresql-server-dev-$PGV" cmake dpkg-dev build-essential); fi
  if [[ -n $need_ts ]]; then add_trixie_src; fi  # before apt_ensure: one apt-get update covers both
  apt_ensure "${pkgs[@]}"
  if [[ -n $need_ts ]]; then build_timescaledb; fi
}

pg_prepare_dirs() {
  mkdir -p "$PGDIR"
  ((${#PGDIR} + 18 <= 107)) || die "socket path $PGDIR/.s.PGSQL.$PG_PORT is too long for a unix socket" "set a shorter IOC_RUN_DIR, e.g. /var/tmp/ioc-run"
  ((EUID == 0)) || return 0
  if ! id -u postgres >/dev/null 2>&1; then
    say "creating OS user postgres"
    useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
  [[ $(stat -c %U "$PGDIR") == postgres ]] || chown -R postgres:postgres "$PGDIR"
  if ! runuser -u postgres -- test -w "$PGDIR"; then  # find the first blocking parent
    local d=/ part parts
    IFS=/ read -ra parts <<<"${PGDIR#/}"
    for part in "${parts[@]}"; do
      runuser -u postgres -- test -x "$d" ||
        die "OS user postgres cannot enter $d (PostgreSQL refuses to run as root)" \
          "either: chmod o+x $d" "or use another run dir: export IOC_RUN_DIR=/var/tmp/ioc-run"
      d=${d%/}/$part
    done
    die "OS user postgres cannot write $PGDIR" "try: chown -R postgres:postgres $PGDIR"
  fi
}

pg_ensure_db() { # role + database + extension; each step is skipped when present
  psql_as postgres postgres >/dev/null <<'SQL'
SELECT 'CREATE ROLE ioc LOGIN SUPERUSER' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ioc') \gexec
SELECT 'CREATE DATABASE ioc OWNER ioc' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'ioc') \gexec
SQL
  psql_as ioc ioc -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION IF NOT EXISTS timescaledb' >/dev/null
  # Apache-only build: this built-in job calls a TSL-only function and logs an ERROR on every run.
  psql_as ioc ioc -c "UPDATE _timescaledb_config.bgw_job SET scheduled = false
    WHERE proc_name = 'policy_job_stat_history_retention' AND scheduled" >/dev/null 2>&1 || true
}

start_postgres() {
  install_postgres
  pg_prepare_dirs
  local t0=$SECONDS
  if pg_running; then
    pg_ensure_db || die "role/database/extension check failed" "see $PGDIR/postgres.log"
    say "postgres already running (pid $(pg_pid), 127.0.0.1:$PG_PORT)"; return 0
  fi
  if port_open "$PG_PORT"; then die "127.0.0.1:$PG_PORT is used by another process" "find it: ss -ltnp 'sport = :$PG_PORT'; or set IOC_PG_PORT"; fi
  if [[ ! -f $PGDATA/PG_VERSION ]]; then
    say "initialising PostgreSQL $PGV cluster in $PGDATA"
    as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$PGDIR/initdb.log" 2>&1 ||
      fail_log "$PGDIR/initdb.log" "initdb failed" "remove $PGDATA and start again"
    echo "include_if_exists = 'ioc.conf'  # IOC dev stack (deploy/stack.sh)" >>"$PGDATA/postgresql.conf"
  elif [[ $(cat "$PGDATA/PG_VERSION") != "$PGV" ]]; then
    die "$PGDATA was created by PostgreSQL $(cat "$PGDATA/PG_VERSION"), this host runs $PGV" "dump what you need, then rm -rf $PGDATA and start again"
  fi
  render "$DEPLOY/postgres/postgresql.conf.in" "$PGDATA/ioc.conf" PORT="$PG_PORT" SOCKET_DIR="$PGDIR"
  render "$DEPLOY/postgres/pg_hba.conf.in" "$PGDATA/pg_hba.conf"
  pg_own "$PGDATA/ioc.conf" "$PGDATA/pg_hba.conf" "$PGDATA/postgresql.conf"
  say "starting postgres $PGV on 127.0.0.1:$PG_PORT"
  as_pg timeout 90 "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDIR/postgres.log" -w -t 60 start >/dev/null ||
    fail_log "$PGDIR/postgres.log" "postgres did not start" "fix the cause above, then: deploy/stack.sh start postgres"
  pg_ensure_db || fail_log "$PGDIR/postgres.log" "creating role/database ioc or the timescaledb extension failed" \
    "check: $PGBIN/psql -h 127.0.0.1 -p $PG_PORT -U postgres"
  say "postgres ready on 127.0.0.1:$PG_PORT (pid $(pg_pid), database ioc + timescaledb, $((SECONDS - t0)) s)"
}

stop_postgres() {
  if ! pg_running; then say "postgres not running"; return 0; fi
  say "stopping postgres (pid $(pg_pid))"
  as_pg timeout 90 "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >/dev/null ||
    fail_log "$PGDIR/postgres.log" "postgres did not stop" "try: runuser -u postgres -- $PGBIN/pg_ctl -D $PGDATA -m immediate stop"
  say "postgres stopped"
}

status_postgres() {
  if pg_running; then say "postgres  running   pid $(pg_pid)  127.0.0.1:$PG_PORT (PostgreSQL $PGV, data $PGDATA)"
  else say "postgres  stopped   127.0.0.1:$PG_PORT"; return 3; fi
}

# ----------------------------------------------------------- alertmanager
AM_URL=http://127.0.0.1:$AM_PORT
am_pid() { # prints the pid when our Alertmanager process is alive
  local p; p=$(cat "$AMDIR/alertmanager.pid" 2>/dev/null) || return 1
  [[ $p =~ ^[0-9]+$ ]] && alive "$p" && grep -qa prometheus-alertmanager "/proc/$p/cmdline" && echo "$p"
}
am_ready() { curl -fsS -m 2 -o /dev/null "$AM_URL/-/ready" 2>/dev/null; }

packaged_off() { # units...: Debian enables and starts them on install (:9093 would collide with Kafka)
  local u
  for u; do
    if [[ -d /run/systemd/system ]]; then
      systemctl disable --now "$u" >>"$RUN/apt.log" 2>&1 || true
    elif [[ -x /etc/init.d/$u ]]; then
      "/etc/init.d/$u" stop >>"$RUN/apt.log" 2>&1 || true
      update-rc.d "$u" disable >>"$RUN/apt.log" 2>&1 || true
    fi
  done
}

install_alertmanager() { # prometheus only for promtool (rule checks); the stack runs neither service
  local p units=()
  apt_ensure prometheus-alertmanager prometheus curl
  for p in "${APT_INSTALLED[@]}"; do [[ $p == curl ]] || units+=("$p"); done
  APT_INSTALLED=()
  if ((${#units[@]})); then say "disabling the packaged services ${units[*]} (the stack runs its own)"; packaged_off "${units[@]}"; fi
}

AM_CHANGED=
am_render() { # our config, its webhook URL the setting IOC_ALERTMANAGER_WEBHOOK_URL in effect
  local url tmp=$AMDIR/alertmanager.yml.new
  url=$(settings_get alertmanager_webhook_url) || exit 1  # settings_get said why
  [[ $url =~ ^https?://[^[:space:]\|\'\\]+$ ]] || die "IOC_ALERTMANAGER_WEBHOOK_URL is not an http(s) URL: $url"
  sed "s|^\(\s*- url:\s*\)\S*\(\s*# ioc:webhook-url\)|\1'${url//&/\\&}'\2|" "$DEPLOY/alertmanager/alertmanager.yml" >"$tmp"
  adopt_config "$tmp" "$AMDIR/alertmanager.yml" "alertmanager config is invalid" \
    "fix deploy/alertmanager/alertmanager.yml" -- amtool check-config "$tmp"
  AM_CHANGED=$CONFIG_CHANGED
}

start_alertmanager() {
  install_alertmanager
  mkdir -p "$AMDIR/data"
  am_render
  # No cluster: a single local instance (--cluster.listen-address= turns gossip off).
  start_daemon alertmanager "$AMDIR" "$AM_PORT" IOC_ALERTMANAGER_PORT "$AM_URL" am_pid am_ready "$AM_CHANGED" -- \
    prometheus-alertmanager --config.file="$AMDIR/alertmanager.yml" --storage.path="$AMDIR/data" \
    --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= --log.level=info
}

stop_alertmanager() { stop_service alertmanager am_pid "$AMDIR/alertmanager.pid" 10; }

status_alertmanager() { status_service alertmanager am_pid am_ready "$AM_URL" 0; }

# ------------------------------------------------------------- prometheus
PROM_URL=http://127.0.0.1:$PROM_PORT
prom_pid() { # prints the pid when our Prometheus process is alive (not prometheus-alertmanager)
  local p exe; p=$(cat "$PROMDIR/prometheus.pid" 2>/dev/null) || return 1
  [[ $p =~ ^[0-9]+$ ]] && alive "$p" || return 1
  exe=$(tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null | head -n 1)
  [[ ${exe##*/} == prometheus ]] && echo "$p"
}
prom_ready() { curl -fsS -m 2 -o /dev/null "$PROM_URL/-/ready" 2>/dev/null; }

install_prometheus() {
  local p units=()
  apt_ensure prometheus curl
  for p in "${APT_INSTALLED[@]}"; do [[ $p == curl ]] || units+=("$p"); done
  APT_INSTALLED=()
  if ((${#units[@]})); then say "disabling the packaged service ${units[*]} (the stack runs its own)"; packaged_off "${units[@]}"; fi
}

PROM_CHANGED=
prom_render() { # the local config; promtool checks it together with the rule files it names
  local tmp=$PROMDIR/prometheus.yml.new values ports
  values=$(settings_get metrics_port demo_sim_metrics_port alerts_metrics_port notify_metrics_port dash_port) || exit 1
  mapfile -t ports <<<"$values"
  render "$DEPLOY/prometheus/local.yml.in" "$tmp" RULES_DIR="$DEPLOY/prometheus/rules" AM_PORT="$AM_PORT" PROM_PORT="$PROM_PORT" \
    WORKER_PORT="${ports[0]}" SIM_PORT="${ports[1]}" ALERTS_PORT="${ports[2]}" NOTIFY_PORT="${ports[3]}" DASH_PORT="${ports[4]}"
  adopt_config "$tmp" "$PROMDIR/prometheus.yml" "prometheus config or rules are invalid" \
    "fix deploy/prometheus/local.yml.in or deploy/prometheus/rules/" -- promtool check config "$tmp"
  PROM_CHANGED=$CONFIG_CHANGED
}

start_prometheus() {
  install_prometheus
  mkdir -p "$PROMDIR/data"
  prom_render
  # a running one re-reads its config and the rule files, which may have changed
  start_daemon prometheus "$PROMDIR" "$PROM_PORT" IOC_PROMETHEUS_PORT "$PROM_URL" prom_pid prom_ready 1 -- \
    prometheus --config.file="$PROMDIR/prometheus.yml" --storage.tsdb.path="$PROMDIR/data" \
    --storage.tsdb.retention.time=7d --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=info
}

stop_prometheus() { stop_service prometheus prom_pid "$PROMDIR/prometheus.pid" 20; }

status_prometheus() { status_service prometheus prom_pid prom_ready "$PROM_URL" 9; }

# ------------------------------------------------------------------- main
usage() { echo "usage: deploy/stack.sh {install|start|stop|status} [kafka|postgres|alertmanager|prometheus|all] | env" >&2; exit 2; }
CMD=${1:-}
TARGET=${2:-all}
case $TARGET in
  all) SERVICES=(postgres kafka alertmanager prometheus) ;;
  kafka | postgres | alertmanager | prometheus) SERVICES=("$TARGET") ;;
  *) usage ;;
esac

case $CMD in
  install | start)
    mkdir -p "$RUN"
    t0=$SECONDS
    for s in "${SERVICES[@]}"; do "${CMD}_$s"; done
    say "$CMD $TARGET done ($((SECONDS - t0)) s)" ;;
  stop)
    for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do "stop_${SERVICES[i]}"; done ;;
  status)
    rc=0
    for s in "${SERVICES[@]}"; do "status_$s" || rc=3; done
    exit "$rc" ;;
  env)
    echo "export IOC_RUN_DIR=$RUN"
    echo "export IOC_KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT"
    echo "export IOC_DATABASE_URL=postgresql://ioc@127.0.0.1:$PG_PORT/ioc"
    echo "export IOC_ALERTMANAGER_URL=$AM_URL"
    echo "# Prometheus (meta-alerts of the pipeline): $PROM_URL" ;;
  *) usage ;;
esac
