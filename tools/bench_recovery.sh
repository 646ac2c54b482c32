#!/usr/bin/env bash
# Overload and recovery: serves a synthetic 100k-item store (exact scorer)
# with the default request-thread bound and offers 3 x QPS for SECONDS, then
# 0.5 x QPS for SECONDS (tools/loadgen open loop, 1 s deadline). Per phase it
# prints the status counts, the share answered OK, the goodput, how fast
# refusals came back (latency of the failed calls) and the server's RSS
# (sampled every 0.5 s: first, last, max, slope). Past capacity the server
# should refuse with RESOURCE_EXHAUSTED with bounded memory; at 0.5 x it
# should answer every call OK again.
#
# Usage: tools/bench_recovery.sh [QPS] [SECONDS]   (default: 400 20; QPS ~ capacity)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/load_common.sh

QPS=${1:-400}
SECONDS_PER_PHASE=${2:-20}

load_init bench-recovery
make_store "$WORK/db" 100000
start_server "$WORK/db"
rss_sampler "$SERVER_PID" "$WORK/rss" 0.5
echo "synthetic 100k items x 64, exact scorer, server flags: ${SERVER_FLAGS:-defaults}; $SECONDS_PER_PHASE s per phase; $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

phase() {  # label qps
  local label=$1 qps=$2 from shed_before
  from=$(tail -n1 "$WORK/rss" | cut -d' ' -f1)
  shed_before=$(metric affinity_requests_shed_total)
  loadgen "$WORK/$label" --qps="$qps" --duration_s="$SECONDS_PER_PHASE" --seed="$RANDOM"
  local ok completed
  ok=$(count "$WORK/$label" OK)
  completed=$(field "$WORK/$label" completed)
  printf '%-9s %6s QPS  ok %s/%s (%s%%)  goodput %s/s  shed by the server %s\n' "$label" "$qps" \
    "$ok" "$completed" "$(awk -v a="$ok" -v b="$completed" 'BEGIN {printf "%.1f", b ? 100 * a / b : 0}')" \
    "$(field "$WORK/$label" ok_qps)" "$(( $(metric affinity_requests_shed_total) - shed_before ))"
  printf '          statuses %s\n' "$(statuses "$WORK/$label")"
  printf '          ok %s\n' "$(sed -n 's/^latency_ms ok: //p' "$WORK/$label")"
  printf '          failed %s\n' "$(sed -n 's/^latency_ms failed: //p' "$WORK/$label")"
  printf '          %s\n' "$(rss_summary "$WORK/rss" "$from")"
}

phase overload $((3 * QPS))
phase recovery $((QPS / 2))
echo "whole run: $(rss_summary "$WORK/rss"); time stolen by other guests: $(stolen_since_start)%"
