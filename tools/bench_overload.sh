#!/usr/bin/env bash
# Goodput under overload: serves a synthetic 100k-item store (100,000 items x
# 64 dims, 1,000 users, exact scorer) with request threads unbounded
# (--threads=0, gRPC's own default) and with the default bound (4 per core),
# and runs tools/loadgen open loop (users u1..u1000, k 10, 1 s deadline) at
# QPS and at 3 x QPS against each, alternating, ROUNDS times. Per run it
# prints the goodput (OK answers per second: answered within the deadline),
# the status counts, the latency quantiles of the OK and of the failed calls
# (how fast a refusal comes back) and the server's peak thread count. Server
# and load generator share the machine's cores.
#
# Usage: tools/bench_overload.sh [QPS] [SECONDS] [ROUNDS]   (default: 400 20 2)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/load_common.sh

QPS=${1:-400}
SECONDS_PER_RUN=${2:-20}
ROUNDS=${3:-2}

load_init bench-overload
make_store "$WORK/db" 100000

run() {  # label qps server-flags...
  local label=$1 qps=$2
  shift 2
  start_server "$WORK/db" "$@"
  echo 0 >"$WORK/peak"
  (
    peak=0
    while threads=$(awk '/^Threads:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null) &&
          [ -n "$threads" ]; do
      [ "$threads" -gt "$peak" ] && peak=$threads && echo "$peak" >"$WORK/peak"
      sleep 0.2
    done
  ) &
  local sampler=$!
  loadgen "$WORK/report" --qps="$qps" --duration_s="$SECONDS_PER_RUN"
  kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
  stop_server
  printf '%-22s %5s QPS  goodput %7s/s  %s\n' "$label" "$qps" "$(field "$WORK/report" ok_qps)" \
    "$(statuses "$WORK/report")"
  printf '%28s ok %s\n' "" "$(sed -n 's/^latency_ms ok: //p' "$WORK/report")"
  printf '%28s failed %s\n' "" "$(sed -n 's/^latency_ms failed: //p' "$WORK/report")"
  printf '%28s peak threads %s\n' "" "$(cat "$WORK/peak")"
}

echo "synthetic 100k items x 64, exact scorer; $SECONDS_PER_RUN s per run; $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
  for qps in "$QPS" $((3 * QPS)); do
    run "unbounded (threads=0)" "$qps" --threads=0
    run "default bound" "$qps"
  done
done
echo "time stolen by other guests: $(stolen_since_start)%"
