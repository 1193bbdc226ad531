#!/usr/bin/env bash
# `make demo`: start the local stack, prepare schema and topics, run simulator + worker + wall.
# Ctrl-C stops the processes and the stack.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin

stop_all() {
  trap - EXIT INT TERM
  echo "demo: stopping the stack"
  deploy/stack.sh stop || true
}
trap stop_all EXIT INT TERM

deploy/stack.sh start
"$BIN/ioc" db migrate
"$BIN/ioc" topics create
"$BIN/ioc" demo
