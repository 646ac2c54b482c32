#!/usr/bin/env bash
# Soak with clients that vanish: serves a synthetic 100k-item store (exact
# scorer, default flags) for SECONDS while three kinds of client load it
# through tools/loadgen, all on loopback:
#   healthy   QPS, 1 s deadline, for the whole run (in runs of at most 60 s);
#   deadline  QPS/2 with a 2 ms deadline: most deadlines pass while the call
#             is queued or being scored;
#   vanish    QPS/2 from a client process killed with SIGKILL 0.5-3 s after
#             it starts, again and again: its connection drops with calls in
#             flight (the server sees them cancelled).
# The server's RSS is sampled every 2 s. Prints the healthy clients' statuses
# and latency, the other clients' counts, the server's request counts by
# status, and RSS first/last/max and slope over the whole run and after the
# first WARMUP seconds: flat RSS means vanished and expired calls leave
# nothing behind.
#
# Usage: tools/soak_vanishing.sh [SECONDS] [QPS] [WARMUP]   (default: 180 100 30)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/load_common.sh

SOAK_SECONDS=${1:-180}
QPS=${2:-100}
WARMUP=${3:-30}

load_init soak-vanishing
make_store "$WORK/db" 100000
start_server "$WORK/db"
rss_sampler "$SERVER_PID" "$WORK/rss" 2
echo "synthetic 100k items x 64, exact scorer, server flags: ${SERVER_FLAGS:-defaults}; $SOAK_SECONDS s; healthy $QPS QPS, deadline 2 ms $((QPS / 2)) QPS, vanishing $((QPS / 2)) QPS; $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

end=$(( $(date +%s) + SOAK_SECONDS ))
remaining() { echo $(( end - $(date +%s) )); }

(  # healthy clients
  i=0
  while [ "$(remaining)" -gt 0 ]; do
    d=$(remaining); [ "$d" -gt 60 ] && d=60
    i=$((i + 1))
    loadgen "$WORK/healthy.$i" --qps="$QPS" --duration_s="$d" --seed="$i"
  done
) &
LOAD_PIDS+=($!)
healthy=$!

(  # clients whose deadlines pass
  i=0
  while [ "$(remaining)" -gt 0 ]; do
    d=$(remaining); [ "$d" -gt 10 ] && d=10
    i=$((i + 1))
    loadgen "$WORK/deadline.$i" --qps=$((QPS / 2)) --duration_s="$d" --deadline_ms=2 --seed="$((1000 + i))"
  done
) &
LOAD_PIDS+=($!)
deadline=$!

(  # clients that vanish mid-call
  kills=0
  while [ "$(remaining)" -gt 1 ]; do
    "$LOADGEN" --server="127.0.0.1:$GRPC_PORT" --num_users=1000 --user_prefix=u \
      --qps=$((QPS / 2)) --duration_s=10 --seed="$RANDOM" >/dev/null 2>&1 &
    client=$!
    sleep "$(awk -v r="$RANDOM" 'BEGIN {printf "%.2f", 0.5 + 2.5 * r / 32767}')"
    kill -KILL "$client" 2>/dev/null && kills=$((kills + 1))
    wait "$client" 2>/dev/null || true
  done
  echo "$kills" >"$WORK/kills"
) &
LOAD_PIDS+=($!)
vanish=$!

wait "$healthy" "$deadline" "$vanish" || true

sum_status() {  # PATTERN CODE
  cat $1 2>/dev/null | awk -v code="$2:" '$1 == "status" && $2 == code {n += $3} END {print n + 0}'
}
sum_field() {  # PATTERN KEY
  cat $1 2>/dev/null | awk -v key="$2:" '$1 == key {n += $2} END {print n + 0}'
}
h_ok=$(sum_status "$WORK/healthy.*" OK)
h_all=$(sum_field "$WORK/healthy.*" completed)
echo "healthy: $h_ok OK of $h_all completed ($((h_all - h_ok)) failed)"
for f in "$WORK"/healthy.*; do
  printf '  run %-3s %s | ok p50 %s p99 %s max %s\n' "${f##*.}" "$(statuses "$f")" \
    "$(quantile "$f" ok p50)" "$(quantile "$f" ok p99)" "$(quantile "$f" ok max)"
done
echo "deadline 2 ms: $(sum_field "$WORK/deadline.*" completed) completed: OK $(sum_status "$WORK/deadline.*" OK), DEADLINE_EXCEEDED $(sum_status "$WORK/deadline.*" DEADLINE_EXCEEDED), RESOURCE_EXHAUSTED $(sum_status "$WORK/deadline.*" RESOURCE_EXHAUSTED)"
echo "vanishing: $(cat "$WORK/kills" 2>/dev/null || echo 0) client processes killed mid-run"
echo "server: $(curl -s "http://127.0.0.1:$METRICS_PORT/metrics" |
  awk '/^affinity_requests_total\{method="Recommend"/ && $2 > 0 {sub(/.*code="/, "", $1); sub(/"}/, "", $1); printf "%s %s  ", $1, $2}
       /^affinity_requests_shed_total / {printf "shed %s", $2}')"
echo "whole run:         $(rss_summary "$WORK/rss")"
echo "after ${WARMUP} s warm-up: $(rss_summary "$WORK/rss" "$WARMUP")"
echo "time stolen by other guests: $(stolen_since_start)%"
