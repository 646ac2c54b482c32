#!/usr/bin/env bash
# What a shadow costs the served requests at a fixed load: trains two
# versions on the bundled MovieLens latest-small ratings into a scratch
# store (version 1: 64 factors, 15 iterations, the control; version 2: 32
# factors, 10 iterations, regularization 0.05, the shadow), serves it with
# one affinity-server and runs tools/loadgen (open loop, users 1..610, k 10)
# without a shadow and with version 2 shadowing every request, alternating,
# ROUNDS times. Prints each run's latency quantiles and the server's shadow
# counters (requests the shadow scored, samples dropped because its queue
# was full). Server and load generator share the machine's cores.
#
# Usage: tools/bench_shadow.sh [QPS] [SECONDS] [ROUNDS]   (default: 1000 10 2)
set -euo pipefail
cd "$(dirname "$0")/.."

QPS=${1:-1000}
SECONDS_PER_RUN=${2:-10}
ROUNDS=${3:-2}
PORT=50171
METRICS_PORT=9571

bazel build --jobs=2 //trainer:affinity-train //server:affinity-server //tools:affinity \
  //tools/loadgen:loadgen
WORK=$(mktemp -d /tmp/affinity-bench-shadow.XXXXXX)
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" || true
  rm -rf "$WORK"
}
trap cleanup EXIT

RATINGS=data/movielens-latest-small/ratings.csv
bazel-bin/trainer/affinity-train --input=$RATINGS --format=movielens --db="$WORK/db" \
  --factors=64 --iterations=15 --holdout=0 >/dev/null 2>&1
bazel-bin/trainer/affinity-train --input=$RATINGS --format=movielens --db="$WORK/db" \
  --factors=32 --iterations=10 --regularization=0.05 --holdout=0 >/dev/null 2>&1
seq 1 610 >"$WORK/users.txt"
rollout() { bazel-bin/tools/affinity rollout "$@" --db="$WORK/db" --reason=bench_shadow >/dev/null; }
rollout set --arm=control --version=1

bazel-bin/server/affinity-server --db="$WORK/db" --listen=127.0.0.1:$PORT \
  --metrics_listen=127.0.0.1:$METRICS_PORT --admin_listen= --instance=bench-shadow \
  2>"$WORK/server.log" &
SERVER_PID=$!
/usr/bin/python3 tools/wait_for_serving.py --server 127.0.0.1:$PORT --pid $SERVER_PID

metric() { curl -s http://127.0.0.1:$METRICS_PORT/metrics | awk -v m="$1" '$1 == m {print $2}'; }
# Waits until the server serves rollout revision $1.
wait_revision() {
  for _ in $(seq 100); do
    [ "$(metric affinity_rollout_revision)" = "$1" ] && return 0
    sleep 0.05
  done
  echo "the server did not apply revision $1" >&2
  exit 1
}
revision=1
run() {  # label
  local scored_before dropped_before
  scored_before=$(metric 'affinity_shadow_requests_total{version="2"}'); scored_before=${scored_before:-0}
  dropped_before=$(metric 'affinity_shadow_dropped_total{version="2"}'); dropped_before=${dropped_before:-0}
  local line
  line=$(bazel-bin/tools/loadgen/loadgen --server=127.0.0.1:$PORT --qps="$QPS" \
    --duration_s="$SECONDS_PER_RUN" --users_file="$WORK/users.txt" 2>&1 | grep '^latency_ms all:')
  local scored dropped
  scored=$(metric 'affinity_shadow_requests_total{version="2"}'); scored=${scored:-0}
  dropped=$(metric 'affinity_shadow_dropped_total{version="2"}'); dropped=${dropped:-0}
  printf '%-14s %s  shadow scored %d, dropped %d\n' "$1" "${line#latency_ms all: }" \
    $((scored - scored_before)) $((dropped - dropped_before))
}

echo "MovieLens latest-small (610 users, 9724 items), exact scorer, $QPS QPS for $SECONDS_PER_RUN s"
for round in $(seq "$ROUNDS"); do
  run "no shadow"
  rollout shadow --version=2 --fraction=100%
  revision=$((revision + 1)); wait_revision $revision
  run "shadow 100%"
  rollout shadow --fraction=0
  revision=$((revision + 1)); wait_revision $revision
done
