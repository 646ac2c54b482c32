#!/usr/bin/env bash
# Model swaps under sustained load: serves a synthetic store (ITEMS x 64
# dims, 1,000 users, exact scorer, default flags: --poll_ms=250, default
# --threads; SERVER_FLAGS=... adds flags, e.g. --scorer=ivf) and runs one tools/loadgen open-loop run at QPS (1 s deadline)
# after a 5 s warm-up. During that run it alternates STEADY seconds without
# a swap and a swap: a new version is published into the store and waited
# for until the server serves it (affinity_model_loaded), SWAPS times.
# Every request is classed by when it was due (loadgen --latencies_out):
# during a swap (from the publish's start to 1 s after the new version
# serves, which covers freeing the old one at the next poll) or steady (the
# rest). Prints both classes' latency side by side with their failed calls
# (expected: 0), the ratio of their p99, and the publish-to-serving time of
# each swap, and the share of the machine's time stolen by other guests
# over the run (/proc/stat steal). Steady and swap windows interleave in
# the same run, so a slow spell of the machine weighs on both.
#
# How versions arrive (PUBLISH=...):
#   import            as on a serving replica: the versions are built and
#                     exported (affinity-train export) before the load, and
#                     each swap is an `affinity-train import-version` into the
#                     served store at nice 19 (a background job on the serving
#                     machine); what the server's cores do is the import and
#                     the server's own load. IMPORT_FLAGS=... are added to
#                     each import (e.g. IMPORT_FLAGS=--max_write_mb_per_s=40).
#   build (default)   synthetic_store builds and writes each version into the
#                     served store during the load, at nice 19 (a trainer on
#                     the serving machine: its CPU time competes with serving).
#
# STORE_FLAGS=... are added to every synthetic_store run, in both modes:
# STORE_FLAGS=--build_index=ivf (or hnsw) gives each version its stored index,
# as a trainer publishing with --build_index does; without it a server with
# --scorer=ivf or hnsw builds the index itself at each swap.
#
# Requests (RULE_SET=...):
#   (empty, default)  user ids only: no rules, every item scored.
#   homepage          the load-test rules (config/loadtest_rules.textproto),
#                     rule set homepage, 5 recent items folded in per
#                     request, as tools/bench_serve.sh sends them.
#
# Usage: [PUBLISH=import|build] [RULE_SET=homepage] tools/bench_swaps.sh [QPS] [SWAPS] [STEADY] [ITEMS]
#        (default: 200 10 3 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/load_common.sh

QPS=${1:-200}
SWAPS=${2:-10}
STEADY=${3:-3}
ITEMS=${4:-100000}

PUBLISH=${PUBLISH:-build}
case "$PUBLISH" in
  import | build) ;;
  *) echo "PUBLISH: expected import or build, got $PUBLISH" >&2; exit 2 ;;
esac
RULE_SET=${RULE_SET:-}
case "$RULE_SET" in
  "" | homepage) ;;
  *) echo "RULE_SET: expected homepage or nothing, got $RULE_SET" >&2; exit 2 ;;
esac
TRAIN=bazel-bin/trainer/affinity-train
load_init bench-swaps
make_store "$WORK/db" "$ITEMS"
if [ "$PUBLISH" = import ]; then
  bazel build --jobs=2 //trainer:affinity-train >/dev/null 2>&1
  # Versions 2..SWAPS+2 of another store with the same users and items,
  # shipped as `export` directories.
  for _ in $(seq $((SWAPS + 2))); do make_store "$WORK/source" "$ITEMS"; done
  for v in $(seq 2 $((SWAPS + 2))); do
    "$TRAIN" export --db="$WORK/source" --version="$v" --to="$WORK/ship/$v" >/dev/null
  done
fi
SERVER_RULES=()
MIX=()
if [ "$RULE_SET" = homepage ]; then
  homepage_requests "$ITEMS"
  SERVER_RULES=(--rules=config/loadtest_rules.textproto)
  MIX=("${HOMEPAGE_MIX[@]}")
fi
start_server "$WORK/db" "${SERVER_RULES[@]}"

control_version() {
  curl -s "http://127.0.0.1:$METRICS_PORT/metrics" |
    sed -n 's/^affinity_model_loaded{arm="control",version="\([0-9]*\)"} 1$/\1/p'
}

# publish: a new version, returned once the server serves it; prints seconds.
publish() {
  local before start
  before=$(control_version)
  start=$(date +%s.%N)
  if [ "$PUBLISH" = import ]; then
    # (publish runs in a subshell: the next version follows the served one)
    nice -n 19 "$TRAIN" import-version --from="$WORK/ship/$((before + 1))" --db="$WORK/db" ${IMPORT_FLAGS:-} >/dev/null
  else
    nice -n 19 "$SYNTHETIC_STORE" --db="$WORK/db" --items="$ITEMS" --users=1000 ${STORE_FLAGS:-} >/dev/null
  fi
  for _ in $(seq 1200); do
    [ "$(control_version)" != "$before" ] && break
    sleep 0.05
  done
  [ "$(control_version)" != "$before" ] || { echo "version not served after 60 s" >&2; exit 1; }
  awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN {printf "%.1f", n - s}'
}

now() { date +%s.%N; }

first=$(publish)
echo "synthetic $ITEMS items x 64, server flags: ${SERVER_FLAGS:-(defaults: exact scorer)}, requests: ${RULE_SET:-no rules}, publish by $PUBLISH; $QPS QPS; one publish-to-serving $first s; $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

loadgen "$WORK/warmup" --qps="$QPS" --duration_s=5 --seed=3 "${MIX[@]}"
# The run is stopped (SIGTERM) after the last window; 300 s bounds it.
times_at_start=$(cpu_times)
"$LOADGEN" --server="127.0.0.1:$GRPC_PORT" --num_users=1000 --user_prefix=u "${MIX[@]}" \
  --qps="$QPS" --duration_s=300 --seed=2 --latencies_out="$WORK/latencies" >"$WORK/run" 2>&1 &
load=$!
LOAD_PIDS+=("$load")
sleep 0.5
times=()
: >"$WORK/windows"
for i in $(seq "$SWAPS"); do
  t0=$(now)
  sleep "$STEADY"
  t1=$(now)
  echo "steady $t0 $t1" >>"$WORK/windows"
  times+=("$(publish)")
  sleep 1
  echo "swap $t1 $(now)" >>"$WORK/windows"
  kill -0 "$load" 2>/dev/null || { echo "the load run ended before swap $i" >&2; exit 1; }
done
t0=$(now)
sleep "$STEADY"
echo "steady $t0 $(now)" >>"$WORK/windows"
kill -0 "$load" 2>/dev/null || { echo "the load run ended before the last steady window" >&2; exit 1; }
kill -TERM "$load"
wait "$load" || true
stolen=$(stolen_percent "$times_at_start" "$(cpu_times)")

# class CLASS: "p50 .. p99 .. p99.9 .. max ..  FAILED / COMPLETED" of the
# requests due inside that class's windows.
class() {
  awk -v class="$1" 'FNR == NR {if ($1 == class) {n++; from[n] = $2; to[n] = $3}; next}
    {for (i = 1; i <= n; i++) if ($1 >= from[i] && $1 < to[i]) {
       total++; if ($3 != 0) failed++; else print $2; break}}
    END {print "total", total + 0, failed + 0 > "/dev/stderr"}' \
    "$WORK/windows" "$WORK/latencies" 2>"$WORK/$1.count" | sort -g >"$WORK/$1.ok"
  local total failed
  read -r _ total failed <"$WORK/$1.count"
  awk -v total="$total" -v failed="$failed" '{v[NR] = $1}
    function q(p,  i) {i = int(p * NR + 0.999999); if (i < 1) i = 1; return v[i]}
    END {printf "p50 %.3f  p99 %.3f  p99.9 %.3f  max %.3f   %d / %d\n",
         q(0.5), q(0.99), q(0.999), v[NR], failed, total}' "$WORK/$1.ok"
}
printf '%-8s %-50s %s\n' "" "latency_ms of OK calls" "failed / completed"
for c in steady swap; do printf '%-8s %s\n' "$c" "$(class "$c")"; done
awk -v a="$(awk '{v[NR] = $1} END {print v[int(0.99 * NR + 0.999999)]}' "$WORK/steady.ok")" \
  -v b="$(awk '{v[NR] = $1} END {print v[int(0.99 * NR + 0.999999)]}' "$WORK/swap.ok")" \
  'BEGIN {printf "p99 during swaps / steady p99: %.2f (bound: 2)\n", b / a}'
echo "whole run: $(statuses "$WORK/run"); time stolen by other guests: $stolen%"
echo "swaps: $SWAPS; publish-to-serving seconds: ${times[*]}"
echo "model loads: $(metric affinity_model_loads_total), load failures: $(metric affinity_model_load_failures_total)"
