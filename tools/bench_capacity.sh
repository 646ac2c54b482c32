#!/usr/bin/env bash
# Capacity of one server: serves the synthetic store of the load scripts
# (100,000 items x 64 dims, exact scorer, default flags) and offers each QPS
# of the list open loop for SECONDS (tools/loadgen, 1 s deadline), one after
# another against the same server. Prints per rate the goodput (OK answers
# per second), the share answered OK and the OK latency. Capacity is the
# highest rate answered >= 99% OK with OK p99 <= 50 ms; tools/bench_overload.sh
# CAPACITY then offers 3 x that rate. Server and load generator share the
# machine's cores (the generator's CPU per call, refused calls included,
# is not the server's).
#
# Usage: tools/bench_capacity.sh [SECONDS] QPS...   (default: 15 200 400 600 800 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/load_common.sh

SECONDS_PER_RATE=${1:-15}
shift || true
RATES=("$@")
[ ${#RATES[@]} -eq 0 ] && RATES=(200 400 600 800 1000)

load_init bench-capacity
make_store "$WORK/db" 100000
start_server "$WORK/db"
loadgen "$WORK/warmup" --qps=100 --duration_s=3

echo "synthetic 100k items x 64, exact scorer, default flags; $SECONDS_PER_RATE s per rate; $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
capacity=0
for qps in "${RATES[@]}"; do
  loadgen "$WORK/report" --qps="$qps" --duration_s="$SECONDS_PER_RATE"
  ok=$(count "$WORK/report" OK)
  due=$(field "$WORK/report" due)
  p99=$(quantile "$WORK/report" ok p99)
  share=$(awk -v ok="$ok" -v due="$due" 'BEGIN {printf "%.1f", (due > 0 ? 100 * ok / due : 0)}')
  printf '%5s QPS  goodput %7s/s  OK %5s%%  OK p50 %s ms  p99 %s ms  %s\n' "$qps" \
    "$(field "$WORK/report" ok_qps)" "$share" "$(quantile "$WORK/report" ok p50)" "$p99" \
    "$(statuses "$WORK/report")"
  if awk -v s="$share" -v p="$p99" 'BEGIN {exit !(s >= 99 && p != "" && p <= 50)}'; then
    capacity=$qps
  fi
done
echo "capacity (highest rate with >= 99% OK and OK p99 <= 50 ms): $capacity QPS"
echo "time stolen by other guests: $(stolen_since_start)%"
