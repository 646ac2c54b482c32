#!/usr/bin/env bash
# Model swaps under sustained load: serves a synthetic store (ITEMS x 64
# dims, 1,000 users, exact scorer, default flags: --poll_ms=250, default
# --threads) and runs tools/loadgen open loop at QPS (1 s deadline): first
# SECONDS of steady state, then the same load while SWAPS new versions are
# published into the store one after another (synthetic_store on the same
# directory at nice 19, as a trainer on another machine would publish: its
# own CPU time is not what is measured), each waited for until the server
# serves it (affinity_model_loaded). Prints the steady and the during-swaps
# latency side by side, the failed calls of each (expected: 0), the swaps
# done and the load time of each version. The during-swaps run lasts about
# as long as the swaps (one publish is timed first to size it).
#
# Usage: tools/bench_swaps.sh [QPS] [SWAPS] [SECONDS] [ITEMS]   (default: 200 10 20 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/load_common.sh

QPS=${1:-200}
SWAPS=${2:-10}
SECONDS_STEADY=${3:-20}
ITEMS=${4:-100000}

load_init bench-swaps
make_store "$WORK/db" "$ITEMS"
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
  nice -n 19 "$SYNTHETIC_STORE" --db="$WORK/db" --items="$ITEMS" --users=1000 >/dev/null
  for _ in $(seq 1200); do
    [ "$(control_version)" != "$before" ] && break
    sleep 0.05
  done
  [ "$(control_version)" != "$before" ] || { echo "version not served after 60 s" >&2; exit 1; }
  awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN {printf "%.1f", n - s}'
}

first=$(publish)
duration=$(awk -v t="$first" -v n="$SWAPS" 'BEGIN {d = n * t + 2; if (d > 300) d = 300; printf "%.0f", d}')
echo "synthetic $ITEMS items x 64, exact scorer, default flags; $QPS QPS; one publish-to-serving $first s; $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

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
