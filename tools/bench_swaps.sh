#!/usr/bin/env bash
# Model swaps under sustained load: serves a synthetic store (ITEMS x 64
# dims, 1,000 users, exact scorer, default flags: --poll_ms=250, default
# --threads) and runs tools/loadgen open loop at QPS (1 s deadline): first
# SECONDS of steady state, then the same load while SWAPS new versions are
# published into the store one after another, each waited for until the
# server serves it (affinity_model_loaded). Prints the steady and the
# during-swaps latency side by side, the failed calls of each (expected: 0),
# the swaps done and the publish-to-serving time of each version. The
# during-swaps run lasts about as long as the swaps (one publish is timed
# first to size it).
#
# How versions arrive (PUBLISH=...):
#   import            as on a serving replica: the versions are built and
#                     exported (affinity-train export) before the load, and
#                     each swap is an `affinity-train import-version` into the
#                     served store; what the server's cores do is the import
#                     and the server's own load.
#   build (default)   synthetic_store builds and writes each version into the
#                     served store during the load, at nice 19 (a trainer on
#                     the serving machine: its CPU time competes with serving).
#
# Usage: [PUBLISH=import|build] tools/bench_swaps.sh [QPS] [SWAPS] [SECONDS] [ITEMS]
#        (default: 200 10 20 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/load_common.sh

QPS=${1:-200}
SWAPS=${2:-10}
SECONDS_STEADY=${3:-20}
ITEMS=${4:-100000}

PUBLISH=${PUBLISH:-build}
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
elif [ "$PUBLISH" != build ]; then
  echo "PUBLISH: expected import or build, got $PUBLISH" >&2
  exit 2
fi
start_server "$WORK/db"

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
    "$TRAIN" import-version --from="$WORK/ship/$((before + 1))" --db="$WORK/db" >/dev/null
  else
    nice -n 19 "$SYNTHETIC_STORE" --db="$WORK/db" --items="$ITEMS" --users=1000 >/dev/null
  fi
  for _ in $(seq 1200); do
    [ "$(control_version)" != "$before" ] && break
    sleep 0.05
  done
  [ "$(control_version)" != "$before" ] || { echo "version not served after 60 s" >&2; exit 1; }
  awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN {printf "%.1f", n - s}'
}

first=$(publish)
duration=$(awk -v t="$first" -v n="$SWAPS" 'BEGIN {d = n * t + 2; if (d > 300) d = 300; printf "%.0f", d}')
echo "synthetic $ITEMS items x 64, exact scorer, default flags, publish by $PUBLISH; $QPS QPS; one publish-to-serving $first s; $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

loadgen "$WORK/steady" --qps="$QPS" --duration_s="$SECONDS_STEADY"

loadgen "$WORK/swaps" --qps="$QPS" --duration_s="$duration" --seed=2 &
load=$!
LOAD_PIDS+=("$load")
sleep 1
swap_start=$(date +%s.%N)
times=()
for i in $(seq "$SWAPS"); do times+=("$(publish)"); done
swap_seconds=$(awk -v s="$swap_start" -v n="$(date +%s.%N)" 'BEGIN {printf "%.1f", n - s}')
wait "$load" || true

failed() { awk '/^status / && $2 != "OK:" {n += $3} END {print n + 0}' "$1"; }
printf '%-14s %-58s %s\n' "" "latency_ms ok" "failed / completed"
for phase in steady swaps; do
  printf '%-14s %-58s %s / %s  %s\n' "$phase" \
    "p50 $(quantile "$WORK/$phase" ok p50)  p99 $(quantile "$WORK/$phase" ok p99)  p99.9 $(quantile "$WORK/$phase" ok p99.9)  max $(quantile "$WORK/$phase" ok max)" \
    "$(failed "$WORK/$phase")" "$(field "$WORK/$phase" completed)" "$(statuses "$WORK/$phase")"
done
awk -v a="$(quantile "$WORK/steady" ok p99)" -v b="$(quantile "$WORK/swaps" ok p99)" \
  'BEGIN {printf "p99 during swaps / steady p99: %.2f (bound: 2)\n", b / a}'
echo "swaps: $SWAPS in $swap_seconds s (load run $duration s); publish-to-serving seconds: ${times[*]}"
echo "model loads: $(metric affinity_model_loads_total), load failures: $(metric affinity_model_load_failures_total)"
