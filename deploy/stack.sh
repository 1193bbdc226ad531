#!/usr/bin/env bash
# Native local stack for the IOC monitor (no Docker):
#   Kafka (KRaft: one node, or a cluster of IOC_KAFKA_NODES) + PostgreSQL with TimescaleDB (Apache edition) + Alertmanager
#   + Prometheus (scrapes the local processes, evaluates deploy/prometheus/rules/).
#
#   deploy/stack.sh {install|start|stop|status} [kafka|postgres|alertmanager|prometheus|all]
#   eval "$(deploy/stack.sh env)"      # IOC_RUN_DIR, IOC_KAFKA_BOOTSTRAP, IOC_DATABASE_URL, IOC_ALERTMANAGER_URL
#   deploy/stack.sh pg-promote | pg-rejoin | pg-backup | pg-restore <backup> [name=…|time=…|lsn=…]
#
# Everything listens on 127.0.0.1 only; all state lives in ${IOC_RUN_DIR:-<repo>/.run}.
# Ports of the stack: IOC_KAFKA_PORT (9092), IOC_KAFKA_CONTROLLER_PORT (9093), IOC_PG_PORT (5433),
#        IOC_ALERTMANAGER_PORT (9193), IOC_PROMETHEUS_PORT (9190); with IOC_PG_STANDBY=1 also
#        IOC_PG_STANDBY_PORT (IOC_PG_PORT+1) and IOC_PG_RESTORE_PORT (IOC_PG_PORT+2).
# Kafka cluster: IOC_KAFKA_NODES=3 runs three KRaft nodes (broker+controller each, one process each,
#   one cluster id) under $IOC_RUN_DIR/kafka/node-1…3: node N listens for clients on
#   IOC_KAFKA_PORT+N-1 (9092, 9093, 9094) and for the controller quorum on
#   IOC_KAFKA_CONTROLLER_PORT+N-1 (default 9095, 9096, 9097), with production replication: 3
#   replicas of every topic (the internal ones too), min.insync.replicas=2, no unclean leader
#   election; `env` then prints the three-node bootstrap list and IOC_TOPIC_REPLICATION=3.  `stop`
#   stops every node it finds under $IOC_RUN_DIR/kafka; `status` shows each node.
# PostgreSQL standby: IOC_PG_STANDBY=1 adds a streaming standby on IOC_PG_STANDBY_PORT (IOC_PG_PORT+1),
#   data in $IOC_RUN_DIR/pg/standby, copied with pg_basebackup -R into replication slot ioc_standby;
#   the primary commits synchronously (synchronous_standby_names) and archives its WAL into
#   $IOC_RUN_DIR/pg/wal-archive (IOC_PG_ARCHIVE=1 archives without a standby); `env` prints a
#   two-host IOC_DATABASE_URL with target_session_attrs=read-write.  pg-promote makes the standby
#   the primary once the primary is dead, pg-rejoin rebuilds the old primary as its standby,
#   pg-backup takes a base backup into $IOC_RUN_DIR/pg/backups, pg-restore recovers one (with the
#   archive, up to a target) into $IOC_RUN_DIR/pg/restored on IOC_PG_RESTORE_PORT (IOC_PG_PORT+2).
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
KAFKA_NODES=${IOC_KAFKA_NODES:-1}
[[ $KAFKA_NODES =~ ^[1-9]$ ]] || { printf 'stack: FAILED: IOC_KAFKA_NODES must be a number of nodes from 1 to 9, not "%s"\n' "$KAFKA_NODES" >&2; exit 1; }
KAFKA_CTRL_PORT=${IOC_KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + (KAFKA_NODES == 1 ? 1 : KAFKA_NODES)))}
PG_PORT=${IOC_PG_PORT:-5433}
AM_PORT=${IOC_ALERTMANAGER_PORT:-9193}
PROM_PORT=${IOC_PROMETHEUS_PORT:-9190}
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$DEPLOY/kafka/pom.xml")
KDIR=$RUN/kafka
PGDIR=$RUN/pg
PGDATA=$PGDIR/data
PG_STANDBY=${IOC_PG_STANDBY:-0}
PG_ARCHIVE=${IOC_PG_ARCHIVE:-$PG_STANDBY}
for v in PG_STANDBY PG_ARCHIVE; do
  [[ ${!v} =~ ^[01]$ ]] || { printf 'stack: FAILED: IOC_%s must be 0 or 1, not "%s"\n' "$v" "${!v}" >&2; exit 1; }
done
PG_STANDBY_PORT=${IOC_PG_STANDBY_PORT:-$((PG_PORT + 1))}
PG_RESTORE_PORT=${IOC_PG_RESTORE_PORT:-$((PG_PORT + 2))}
SBDATA=$PGDIR/standby
RSDATA=$PGDIR/restored
WAL_ARCHIVE=$PGDIR/wal-archive
PG_BACKUPS=$PGDIR/backups
SYNC_NAME=ioc_standby
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
# One node (IOC_KAFKA_NODES=1): its files right under $KDIR.  A cluster: node N (1…) under
# $KDIR/node-N, client port KAFKA_PORT+N-1, controller port KAFKA_CTRL_PORT+N-1.
KJAVA=(java -Dlog4j.configuration="file:$DEPLOY/kafka/tools-log4j.properties" -cp "$KDIR/libs/*")  # CLI tools
node_dir() { if ((KAFKA_NODES == 1)); then echo "$KDIR"; else echo "$KDIR/node-$1"; fi; }
node_port() { echo $((KAFKA_PORT + $1 - 1)); }
node_ctrl_port() { echo $((KAFKA_CTRL_PORT + $1 - 1)); }
KAFKA_BOOTSTRAP=
KAFKA_VOTERS=
for ((n = 1; n <= KAFKA_NODES; n++)); do
  KAFKA_BOOTSTRAP+=${KAFKA_BOOTSTRAP:+,}127.0.0.1:$(node_port "$n")
  KAFKA_VOTERS+=${KAFKA_VOTERS:+,}$n@127.0.0.1:$(node_ctrl_port "$n")
done
KAFKA_REPLICAS=$((KAFKA_NODES < 3 ? KAFKA_NODES : 3))
KAFKA_MIN_ISR=$((KAFKA_REPLICAS > 1 ? KAFKA_REPLICAS - 1 : 1))

pid_in() { # pidfile: prints the pid when that broker process is alive
  local p; p=$(cat "$1" 2>/dev/null) || return 1
  [[ $p =~ ^[0-9]+$ ]] && alive "$p" && grep -qa kafka.Kafka "/proc/$p/cmdline" && echo "$p"
}
kafka_pid() { pid_in "$(node_dir "${1:-1}")/kafka.pid"; }  # [node]
kafka_fail() { # node message
  local d; d=$(node_dir "$1")
  tail -n 5 "$d/logs/kafka.out" 2>/dev/null | sed 's/^/stack: | /' >&2 || true
  fail_log "$d/logs/server.log" "$2" "full logs: $d/logs/  (server.log, kafka.out)" \
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

kafka_cluster_id() { # the id the nodes were formatted with, or a new one
  local n meta
  for ((n = 1; n <= KAFKA_NODES; n++)); do
    meta=$(node_dir "$n")/data/meta.properties
    if [[ -f $meta ]]; then sed -n 's/^cluster\.id=//p' "$meta"; return 0; fi
  done
  timeout 60 "${KJAVA[@]}" kafka.tools.StorageTool random-uuid || die "kafka StorageTool random-uuid failed" "is java working? try: java -version"
}

LAUNCHED=
launch_node() { # node: render its config, format its storage once, start it (its pid in LAUNCHED and the pid file)
  local n=$1 d id p port ctrl label=
  d=$(node_dir "$n"); port=$(node_port "$n"); ctrl=$(node_ctrl_port "$n")
  ((KAFKA_NODES == 1)) || label=" (node $n)"
  for p in "$port" "$ctrl"; do
    if port_open "$p"; then die "127.0.0.1:$p is used by another process" "find it: ss -ltnp 'sport = :$p'; stop it or set IOC_KAFKA_PORT / IOC_KAFKA_CONTROLLER_PORT"; fi
  done
  mkdir -p "$d/data" "$d/logs"
  render "$DEPLOY/kafka/server.properties.in" "$d/server.properties" NODE_ID="$n" VOTERS="$KAFKA_VOTERS" \
    PORT="$port" CONTROLLER_PORT="$ctrl" DATA_DIR="$d/data" REPLICAS="$KAFKA_REPLICAS" MIN_ISR="$KAFKA_MIN_ISR"
  if [[ ! -f $d/data/meta.properties ]]; then
    id=$(kafka_cluster_id) || exit 1
    say "formatting Kafka storage$label (cluster id $id)"
    timeout 120 "${KJAVA[@]}" kafka.tools.StorageTool format -t "$id" -c "$d/server.properties" >"$d/logs/format.log" 2>&1 ||
      fail_log "$d/logs/format.log" "kafka storage format failed" "check $d/server.properties (from deploy/kafka/server.properties.in); if the data is corrupt: rm -rf $d/data"
  fi
  say "starting kafka $KAFKA_VERSION$label on 127.0.0.1:$port"
  # setsid+nohup: the broker survives this shell and its terminal.
  (cd "$d" && exec setsid nohup java -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dkafka.logs.dir="$d/logs" -Dlog4j.configuration="file:$DEPLOY/kafka/log4j.properties" \
    -cp "$KDIR/libs/*" kafka.Kafka "$d/server.properties" >>"$d/logs/kafka.out" 2>&1 </dev/null) &
  LAUNCHED=$!
  echo "$LAUNCHED" >"$d/kafka.pid"
}

kafka_answers() { # every node's port open, and the cluster lists topics (one node) or has every broker registered
  local n
  for ((n = 1; n <= KAFKA_NODES; n++)); do port_open "$(node_port "$n")" || return 1; done
  if ((KAFKA_NODES == 1)); then
    timeout 60 "${KJAVA[@]}" org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP" --list >/dev/null 2>&1
  else
    (($(timeout 60 "${KJAVA[@]}" kafka.admin.BrokerApiVersionsCommand --bootstrap-server "$KAFKA_BOOTSTRAP" 2>/dev/null |
      grep -c ' (id: [0-9]* rack: ') == KAFKA_NODES))
  fi
}

kafka_log_size() { # of every node's server.log together: grows while the nodes make progress
  local n s total=0
  for ((n = 1; n <= KAFKA_NODES; n++)); do
    s=$(stat -c %s "$(node_dir "$n")/logs/server.log" 2>/dev/null || echo 0); total=$((total + s))
  done
  echo "$total"
}

start_kafka() {
  if ((KAFKA_CTRL_PORT <= KAFKA_PORT + KAFKA_NODES - 1 && KAFKA_PORT <= KAFKA_CTRL_PORT + KAFKA_NODES - 1)); then
    die "the controller ports $KAFKA_CTRL_PORT… overlap the client ports $KAFKA_PORT… of the $KAFKA_NODES nodes" \
      "set IOC_KAFKA_CONTROLLER_PORT to at least $((KAFKA_PORT + KAFKA_NODES)) (or leave it unset)"
  fi
  install_kafka
  local t0=$SECONDS n pid pids=() running=0 open=0
  for ((n = 1; n <= KAFKA_NODES; n++)); do
    if pid=$(kafka_pid "$n"); then
      running=$((running + 1))
      if port_open "$(node_port "$n")"; then open=$((open + 1)); fi
    else launch_node "$n"; pid=$LAUNCHED; fi
    pids+=("$pid")
  done
  if ((open == KAFKA_NODES)); then say "kafka already running (pid ${pids[*]}, $KAFKA_BOOTSTRAP)"; return 0; fi
  if ((running)); then say "kafka (pid ${pids[*]}) is still starting; waiting"; fi
  # 90 s without progress, not 90 s in all: on a loaded machine a broker that keeps writing its log
  # is starting slowly, not stuck (a JVM tool alone can take 20 s there); 10 minutes at most
  local deadline=$((SECONDS + 90)) limit=$((SECONDS + 600)) logged=-1 size
  until kafka_answers; do
    for ((n = 1; n <= KAFKA_NODES; n++)); do
      alive "${pids[n - 1]}" || kafka_fail "$n" "kafka exited during startup$( ((KAFKA_NODES == 1)) || echo " (node $n)")"
    done
    size=$(kafka_log_size)
    if ((size != logged)); then logged=$size; deadline=$((SECONDS + 90)); fi
    ((SECONDS < deadline && SECONDS < limit)) ||
      kafka_fail 1 "kafka did not answer on $KAFKA_BOOTSTRAP (its log unchanged for 90 s, or 10 min in all)"
    sleep 1
  done
  say "kafka ready on $KAFKA_BOOTSTRAP (pid ${pids[*]}, $((SECONDS - t0)) s)"
}

stop_kafka() { # every node found under $KDIR, whatever IOC_KAFKA_NODES says now: SIGTERM to all of
  # them at once (a node stopped alone waits for the quorum the others no longer make), SIGKILL after 30 s
  local f node pid i left=() pidfiles=()
  for f in "$KDIR/kafka.pid" "$KDIR"/node-*/kafka.pid; do
    [[ -f $f ]] || continue
    pidfiles+=("$f")
    node=${f%/kafka.pid}; node=${node#"$KDIR"}; node=${node#/}
    if pid=$(pid_in "$f"); then say "stopping kafka${node:+ $node} (pid $pid)"; kill -TERM "$pid" 2>/dev/null || true; left+=("$pid"); fi
  done
  if ((${#left[@]} == 0)); then rm -f "${pidfiles[@]}"; say "kafka not running"; return 0; fi
  for ((i = 0; i < 150; i++)); do
    for pid in "${!left[@]}"; do alive "${left[pid]}" || unset 'left[pid]'; done
    ((${#left[@]})) || break
    sleep 0.2
  done
  if ((${#left[@]})); then
    say "kafka pid ${left[*]} still alive after 30 s; sending SIGKILL"
    kill -KILL "${left[@]}" 2>/dev/null || true; sleep 1
  fi
  rm -f "${pidfiles[@]}"; say "kafka stopped"
}

status_kafka() {
  local n pid name rc=0
  for ((n = 1; n <= KAFKA_NODES; n++)); do
    name=kafka; ((KAFKA_NODES == 1)) || name="kafka-$n"
    if pid=$(kafka_pid "$n") && port_open "$(node_port "$n")"; then
      say "$(printf '%-9s' "$name") running   pid $pid  127.0.0.1:$(node_port "$n") (controller :$(node_ctrl_port "$n"))"
    elif [[ -n ${pid:-} ]]; then say "$(printf '%-9s' "$name") starting  pid $pid  127.0.0.1:$(node_port "$n")"; rc=3
    else say "$(printf '%-9s' "$name") stopped   127.0.0.1:$(node_port "$n")"; rc=3; fi
  done
  return "$rc"
}

# --------------------------------------------------------------- postgres
# Nodes under $PGDIR: data/ (IOC_PG_PORT), with IOC_PG_STANDBY=1 standby/ (IOC_PG_STANDBY_PORT), and
# restored/ (IOC_PG_RESTORE_PORT, made by pg-restore).  Which of data/ and standby/ is the primary
# is not fixed: a node with standby.signal follows the other; after pg-promote the standby is the
# primary and pg-rejoin rebuilds the old primary as its standby.
as_pg() { if ((EUID == 0)); then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }
pg_own() { if ((EUID == 0)); then chown postgres:postgres "$@"; fi; }
pg_up() { # a killed postmaster stays a zombie until reaped: pg_ctl status alone would call it running
  local pid; [[ -f $1/PG_VERSION ]] && pid=$(head -n 1 "$1/postmaster.pid" 2>/dev/null) && [[ $pid =~ ^[0-9]+$ ]] &&
    alive "$pid" && as_pg "$PGBIN/pg_ctl" -D "$1" status >/dev/null 2>&1
}
pg_running() { pg_up "$PGDATA"; }
pg_pid() { head -n 1 "${1:-$PGDATA}/postmaster.pid" 2>/dev/null || echo '?'; }
is_standby() { [[ -f $1/standby.signal ]]; }
pg_node_port() { case $1 in "$SBDATA") echo "$PG_STANDBY_PORT" ;; "$RSDATA") echo "$PG_RESTORE_PORT" ;; *) echo "$PG_PORT" ;; esac; }
pg_node_log() { case $1 in "$SBDATA") echo "$PGDIR/standby.log" ;; "$RSDATA") echo "$PGDIR/restored.log" ;; *) echo "$PGDIR/postgres.log" ;; esac; }
pg_other_node() { if [[ $1 == "$SBDATA" ]]; then echo "$PGDATA"; else echo "$SBDATA"; fi; }
PSQL_PORT=$PG_PORT  # the primary's, once known
psql_as() { # role db [psql args...]
  local role=$1 db=$2; shift 2
  timeout 60 "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PSQL_PORT" -U "$role" -d "$db" "$@"
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

pg_timeline() { # the timeline of a node's last checkpoint (a promoted node's is higher)
  LC_ALL=C "$PGBIN/pg_controldata" "$1" 2>/dev/null | sed -n "s/^Latest checkpoint's TimeLineID: *//p" || echo 0
}

pg_primary() { # the data dir of the primary: the node without standby.signal
  # (both without, as after pg-promote: the one on the later timeline)
  [[ -f $SBDATA/PG_VERSION ]] && ! is_standby "$SBDATA" || { echo "$PGDATA"; return; }
  if [[ -f $PGDATA/PG_VERSION ]] && ! is_standby "$PGDATA" &&
    (($(pg_timeline "$PGDATA") > $(pg_timeline "$SBDATA"))); then echo "$PGDATA"; else echo "$SBDATA"; fi
}

pg_render() { # data-dir [sync]: ioc.conf and pg_hba.conf of a node; "sync" makes a primary wait for its standby
  local data=$1 sync=${2:-}
  render "$DEPLOY/postgres/postgresql.conf.in" "$data/ioc.conf" PORT="$(pg_node_port "$data")" SOCKET_DIR="$PGDIR"
  render "$DEPLOY/postgres/pg_hba.conf.in" "$data/pg_hba.conf"
  if [[ $data != "$RSDATA" ]] && ((PG_STANDBY || PG_ARCHIVE)); then
    {
      echo "# IOC_PG_STANDBY / IOC_PG_ARCHIVE"
      echo "wal_log_hints = on  # lets pg_rewind turn an old primary into a standby"
      if ((PG_ARCHIVE)); then
        echo "archive_mode = on"
        # never overwrites a segment; one already there with the same bytes is done (after a promotion
        # the new primary archives the old timeline's segments the old primary archived already, and a
        # refusal there would stop all archiving behind them); copied under a temporary name, then renamed
        echo "archive_command = 'if test -f $WAL_ARCHIVE/%f; then cmp -s %p $WAL_ARCHIVE/%f; else cp %p $WAL_ARCHIVE/%f.part && mv $WAL_ARCHIVE/%f.part $WAL_ARCHIVE/%f; fi'"
      fi
      if [[ -n $sync ]]; then
        echo "synchronous_standby_names = '$SYNC_NAME'  # a commit returns once the standby has it"
        echo "synchronous_commit = on"
      fi
    } >>"$data/ioc.conf"
  fi
  pg_own "$data/ioc.conf" "$data/pg_hba.conf"
}

pg_start_node() { # data-dir what [sync|rendered]: render its config (unless rendered) and start it
  local data=$1 port log; port=$(pg_node_port "$1"); log=$(pg_node_log "$1")
  if port_open "$port"; then die "127.0.0.1:$port is used by another process" "find it: ss -ltnp 'sport = :$port'; or choose another port"; fi
  # a postmaster killed a moment ago is a zombie until reaped, and postgres refuses its lock files until then
  local f pid deadline=$((SECONDS + 30))
  for f in "$PGDIR/.s.PGSQL.$port.lock" "$data/postmaster.pid"; do
    pid=$(head -n 1 "$f" 2>/dev/null) && [[ $pid =~ ^[0-9]+$ ]] || continue
    while ! alive "$pid" && kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  done
  if [[ ${3:-} != rendered ]]; then pg_render "$data" "${3:-}"; fi
  say "starting postgres $PGV${2:+ $2} on 127.0.0.1:$port"
  as_pg timeout 90 "$PGBIN/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null ||
    fail_log "$log" "postgres${2:+ $2} did not start" "fix the cause above, then: deploy/stack.sh start postgres"
}

pg_stop_node() { # data-dir what
  local data=$1 log; log=$(pg_node_log "$1")
  if ! pg_up "$data"; then say "postgres $2 not running"; return 0; fi
  say "stopping postgres $2 (pid $(pg_pid "$data"))"
  as_pg timeout 90 "$PGBIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null ||
    fail_log "$log" "postgres $2 did not stop" "try: runuser -u postgres -- $PGBIN/pg_ctl -D $data -m immediate stop"
  say "postgres $2 stopped"
}

start_postgres() {
  install_postgres
  pg_prepare_dirs
  local t0=$SECONDS primary sync=
  if ((!PG_STANDBY)) && [[ -f $SBDATA/PG_VERSION ]]; then
    die "$PGDIR has a standby (or a promoted one); IOC_PG_STANDBY is not set" \
      "set IOC_PG_STANDBY=1 (and IOC_PG_STANDBY_PORT if it was set), or stop postgres and remove $SBDATA"
  fi
  primary=$(pg_primary)
  PSQL_PORT=$(pg_node_port "$primary")
  if ((PG_ARCHIVE)); then mkdir -p "$WAL_ARCHIVE" "$PG_BACKUPS"; pg_own "$WAL_ARCHIVE" "$PG_BACKUPS"; fi
  if pg_up "$primary"; then
    pg_ensure_db || die "role/database/extension check failed" "see $(pg_node_log "$primary")"
    say "postgres already running (pid $(pg_pid "$primary"), 127.0.0.1:$PSQL_PORT)"
  else
    if [[ ! -f $PGDATA/PG_VERSION ]]; then
      say "initialising PostgreSQL $PGV cluster in $PGDATA"
      as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$PGDIR/initdb.log" 2>&1 ||
        fail_log "$PGDIR/initdb.log" "initdb failed" "remove $PGDATA and start again"
      echo "include_if_exists = 'ioc.conf'  # IOC dev stack (deploy/stack.sh)" >>"$PGDATA/postgresql.conf"
      pg_own "$PGDATA/postgresql.conf"
    elif [[ $(cat "$primary/PG_VERSION") != "$PGV" ]]; then
      die "$primary was created by PostgreSQL $(cat "$primary/PG_VERSION"), this host runs $PGV" "dump what you need, then rm -rf $primary and start again"
    fi
    # synchronous only while the standby runs: without it, creating the database would wait forever
    if ((PG_STANDBY)) && pg_up "$(pg_other_node "$primary")" && is_standby "$(pg_other_node "$primary")"; then sync=1; fi
    pg_start_node "$primary" "$( ((PG_STANDBY)) && echo primary)" "$sync"
    pg_ensure_db || fail_log "$(pg_node_log "$primary")" "creating role/database ioc or the timescaledb extension failed" \
      "check: $PGBIN/psql -h 127.0.0.1 -p $PSQL_PORT -U postgres"
    say "postgres ready on 127.0.0.1:$PSQL_PORT (pid $(pg_pid "$primary"), database ioc + timescaledb, $((SECONDS - t0)) s)"
  fi
  if ((PG_STANDBY)); then start_pg_standby "$primary"; fi
}

pg_clone() { # primary-dir target-dir: a fresh standby of the primary (pg_basebackup -R, replication slot $SYNC_NAME)
  local primary=$1 target=$2 port; port=$(pg_node_port "$1")
  rm -rf "$target"
  psql_as postgres postgres -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
    WHERE slot_name = '$SYNC_NAME' AND NOT active" >/dev/null  # the slot of a standby that is gone
  say "copying the primary (127.0.0.1:$port) into $target (pg_basebackup)"
  as_pg timeout 600 "$PGBIN/pg_basebackup" -D "$target" -d "host=127.0.0.1 port=$port user=postgres application_name=$SYNC_NAME" \
    -R -C -S "$SYNC_NAME" -X stream -c fast >"$PGDIR/basebackup.log" 2>&1 ||
    fail_log "$PGDIR/basebackup.log" "pg_basebackup of the primary failed" "fix the cause above, then: deploy/stack.sh start postgres"
}

pg_wait_sync() { # until the primary streams to the standby synchronously (30 s)
  local deadline=$((SECONDS + 30)) n
  until n=$(psql_as postgres postgres -tA -c "SELECT count(*) FROM pg_stat_replication
      WHERE application_name = '$SYNC_NAME' AND sync_state = 'sync'" 2>/dev/null) && ((n > 0)); do
    ((SECONDS < deadline)) || fail_log "$(pg_node_log "$SBDATA")" "the standby does not stream synchronously from the primary within 30 s"
    sleep 0.3
  done
}

start_pg_standby() { # primary-dir [rebuild]: the other node as its synchronous standby
  local primary=$1 standby t0=$SECONDS; standby=$(pg_other_node "$1")
  if [[ -n ${2:-} ]]; then
    pg_stop_node "$standby" "old primary"
    rm -rf "$standby"
  elif [[ -f $standby/PG_VERSION ]] && ! is_standby "$standby"; then
    die "$standby was the primary before a promotion; it must not run beside the new one" \
      "rebuild it as the new primary's standby: deploy/stack.sh pg-rejoin"
  fi
  if pg_up "$standby"; then
    say "postgres standby already running (pid $(pg_pid "$standby"), 127.0.0.1:$(pg_node_port "$standby"))"
  else
    if [[ ! -f $standby/PG_VERSION ]]; then pg_clone "$primary" "$standby"; fi
    pg_start_node "$standby" standby
  fi
  # the primary waits for its standby from now on (an operator's ALTER SYSTEM that turned it off is undone)
  psql_as postgres postgres -c 'ALTER SYSTEM RESET synchronous_standby_names' >/dev/null
  pg_render "$primary" sync
  as_pg "$PGBIN/pg_ctl" -D "$primary" reload >/dev/null
  pg_wait_sync
  say "postgres standby ready on 127.0.0.1:$(pg_node_port "$standby") (pid $(pg_pid "$standby"), synchronous, $((SECONDS - t0)) s)"
}

stop_postgres() {
  if [[ -f $RSDATA/PG_VERSION ]]; then pg_stop_node "$RSDATA" restored; fi
  if [[ -f $SBDATA/PG_VERSION ]]; then
    local first; first=$(pg_primary)  # the primary first: its standby receives all of it
    pg_stop_node "$first" "$(is_standby "$first" && echo standby || echo primary)"
    first=$(pg_other_node "$first")
    pg_stop_node "$first" "$(is_standby "$first" && echo standby || echo primary)"
  else
    if ! pg_running; then say "postgres not running"; return 0; fi
    say "stopping postgres (pid $(pg_pid))"
    as_pg timeout 90 "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >/dev/null ||
      fail_log "$PGDIR/postgres.log" "postgres did not stop" "try: runuser -u postgres -- $PGBIN/pg_ctl -D $PGDATA -m immediate stop"
    say "postgres stopped"
  fi
}

status_postgres() {
  if [[ ! -f $SBDATA/PG_VERSION && ! -f $RSDATA/PG_VERSION ]]; then
    if pg_running; then say "postgres  running   pid $(pg_pid)  127.0.0.1:$PG_PORT (PostgreSQL $PGV, data $PGDATA)"
    else say "postgres  stopped   127.0.0.1:$PG_PORT"; return 3; fi
    return 0
  fi
  local data role rc=0
  for data in "$PGDATA" "$SBDATA" "$RSDATA"; do
    [[ -f $data/PG_VERSION ]] || continue
    role=$(if [[ $data == "$RSDATA" ]]; then echo restored; elif is_standby "$data"; then echo standby; else echo primary; fi)
    if pg_up "$data"; then say "postgres  running   pid $(pg_pid "$data")  127.0.0.1:$(pg_node_port "$data") $role (data $data)"
    else say "postgres  stopped   127.0.0.1:$(pg_node_port "$data") $role (data $data)"; [[ $data == "$RSDATA" ]] || rc=3; fi
  done
  return "$rc"
}

pg_promote() { # the standby becomes the primary (after the primary died)
  local standby primary
  standby=$(pg_primary); standby=$(pg_other_node "$standby")
  is_standby "$standby" && pg_up "$standby" || die "no running standby to promote" "see: deploy/stack.sh status postgres"
  primary=$(pg_other_node "$standby")
  if pg_up "$primary"; then
    die "the primary on 127.0.0.1:$(pg_node_port "$primary") still runs; two primaries would split the data" \
      "stop it first: runuser -u postgres -- $PGBIN/pg_ctl -D $primary -m fast stop"
  fi
  local t0=$SECONDS
  as_pg timeout 90 "$PGBIN/pg_ctl" -D "$standby" -w -t 60 promote >/dev/null ||
    fail_log "$(pg_node_log "$standby")" "promoting the standby failed"
  say "promoted 127.0.0.1:$(pg_node_port "$standby") to primary ($((SECONDS - t0)) s); it writes without a standby now"
  say "rebuild the old primary as its standby: deploy/stack.sh pg-rejoin"
}

pg_rejoin() { # the old primary rebuilt (fresh pg_basebackup) as the new primary's standby
  pg_prepare_dirs
  local primary; primary=$(pg_primary)
  pg_up "$primary" || die "the primary ($primary) is not running" "start it: deploy/stack.sh start postgres"
  PSQL_PORT=$(pg_node_port "$primary")
  if is_standby "$(pg_other_node "$primary")"; then
    say "$(pg_other_node "$primary") is a standby already, nothing to rebuild"; start_pg_standby "$primary"
  else start_pg_standby "$primary" rebuild; fi
}

pg_backup() { # a base backup of the primary into $PG_BACKUPS/<UTC time>; WAL after it is in $WAL_ARCHIVE
  ((PG_ARCHIVE)) || die "no WAL archive: a base backup alone restores one moment only" "set IOC_PG_ARCHIVE=1 (or IOC_PG_STANDBY=1) and restart postgres"
  local primary dir t0=$SECONDS; primary=$(pg_primary)
  pg_up "$primary" || die "the primary ($primary) is not running" "start it: deploy/stack.sh start postgres"
  dir=$PG_BACKUPS/$(date -u +%Y%m%dT%H%M%SZ)
  mkdir -p "$PG_BACKUPS"; pg_own "$PG_BACKUPS"
  as_pg timeout 600 "$PGBIN/pg_basebackup" -D "$dir" -d "host=127.0.0.1 port=$(pg_node_port "$primary") user=postgres" \
    -X stream -c fast >"$PGDIR/backup.log" 2>&1 || fail_log "$PGDIR/backup.log" "pg_basebackup failed"
  say "base backup in $dir ($(du -sh "$dir" | cut -f1), $((SECONDS - t0)) s)"
  echo "$dir"
}

pg_restore() { # backup [name=<restore point>|time=<timestamp>|lsn=<lsn>]: into $RSDATA on IOC_PG_RESTORE_PORT
  local backup=${1:-} target=${2:-} t0=$SECONDS deadline rec
  [[ -f $backup/PG_VERSION ]] || die "no base backup at '$backup'" "take one: deploy/stack.sh pg-backup"
  case $target in
    '') ;;
    name=* | time=* | lsn=*) ;;
    *) die "recovery target '$target' is not name=…, time=… or lsn=…" ;;
  esac
  pg_prepare_dirs
  if [[ -f $RSDATA/PG_VERSION ]]; then pg_stop_node "$RSDATA" restored; fi
  rm -rf "$RSDATA"
  cp -a "$backup" "$RSDATA"
  rm -f "$RSDATA/standby.signal" "$RSDATA/postmaster.pid"
  touch "$RSDATA/recovery.signal"
  if ((EUID == 0)); then chown -R postgres:postgres "$RSDATA"; fi
  pg_render "$RSDATA"
  {
    echo "# pg-restore of $backup"
    echo "restore_command = 'cp $WAL_ARCHIVE/%f %p'"
    if [[ -n $target ]]; then echo "recovery_target_${target%%=*} = '${target#*=}'"; fi
    echo "recovery_target_action = 'promote'"
  } >>"$RSDATA/ioc.conf"
  pg_start_node "$RSDATA" restored rendered
  PSQL_PORT=$PG_RESTORE_PORT; deadline=$((SECONDS + 120))
  until rec=$(psql_as postgres postgres -tA -c 'SELECT pg_is_in_recovery()' 2>/dev/null) && [[ $rec == f ]]; do
    pg_up "$RSDATA" || fail_log "$PGDIR/restored.log" "the restored server stopped during recovery (target not reached?)"
    ((SECONDS < deadline)) || fail_log "$PGDIR/restored.log" "recovery did not end within 120 s"
    sleep 0.3
  done
  say "restored $backup${target:+ up to $target} on 127.0.0.1:$PG_RESTORE_PORT (data $RSDATA, $((SECONDS - t0)) s)"
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
usage() {
  echo "usage: deploy/stack.sh {install|start|stop|status} [kafka|postgres|alertmanager|prometheus|all] | env" >&2
  echo "       deploy/stack.sh pg-promote | pg-rejoin | pg-backup | pg-restore <backup> [name=…|time=…|lsn=…]" >&2
  exit 2
}
CMD=${1:-}
case $CMD in
  pg-promote | pg-rejoin | pg-backup | pg-restore)
    ((PG_STANDBY)) || [[ $CMD == pg-backup || $CMD == pg-restore ]] || die "$CMD needs the standby" "set IOC_PG_STANDBY=1"
    fn=${CMD//-/_}; shift; "$fn" "$@"; exit 0 ;;
esac
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
    echo "export IOC_KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP"
    if ((KAFKA_NODES > 1)); then echo "export IOC_TOPIC_REPLICATION=$KAFKA_REPLICAS"; fi
    if ((PG_STANDBY)); then  # libpq tries both; read-write skips the standby, so a promotion is followed
      echo "export IOC_DATABASE_URL='postgresql://ioc@127.0.0.1:$PG_PORT,127.0.0.1:$PG_STANDBY_PORT/ioc?target_session_attrs=read-write'"
    else echo "export IOC_DATABASE_URL=postgresql://ioc@127.0.0.1:$PG_PORT/ioc"; fi
    echo "export IOC_ALERTMANAGER_URL=$AM_URL"
    echo "# Prometheus (meta-alerts of the pipeline): $PROM_URL" ;;
  *) usage ;;
esac
