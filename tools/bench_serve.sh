#!/usr/bin/env bash
# Serving benchmark at catalog scale: builds the synthetic store
# (//server:synthetic_store, ITEMS x 64 dims, 1,000 users, its catalog) and,
# for each server configuration of CONFIGS below, starts the server with the
# load-test rules (config/loadtest_rules.textproto), then offers each QPS
# open loop for SECONDS (tools/loadgen: rule set `homepage`, 5 recent items
# per request folded in, 1 s deadline, the same seeded request sequence for
# every configuration and rate). Prints ONE table: configuration, target
# QPS, achieved QPS (OK answers per second), p50 and p99 latency of the OK
# answers (ms, from their due time), errors (requests due but not answered
# OK: refused, past their deadline, ...), server CPU per request (ms: utime
# + stime of the server process from /proc/PID/stat over the run, divided
# by the requests answered), the mean scoring batch and pass duration
# (affinity_scoring_batch_size, affinity_scoring_pass_seconds over the run),
# the share of the machine's time stolen by other guests over the run
# (/proc/stat steal; such a run measures the neighbours as much as the
# server) and, for approximate configurations, recall@10 of the served
# answers against the exact answers to the same requests.
#
# Recall: first, an exact server (default flags) answers the first
# REF_REQUESTS requests of the sequence at REF_QPS (loadgen --answers_out);
# every run of an approximate configuration also writes its answers, and
# recall@10 is the mean, over the requests among those answered OK by both,
# of |served ∩ exact| / |exact| (answers after the rules: filters,
# diversity, pin, the user's seen and recent items excluded).
#
# Usage: tools/bench_serve.sh [ITEMS=1000000] [SECONDS=10] [QPS...=100 300 1000 2000]
#   CONFIGS="exact-alone hnsw"   only these configurations (default: all below)
#   SERVER_FLAGS=...             added to every configuration (load_common.sh)
#   REF_REQUESTS=1000 REF_QPS=100   the exact reference run
# Server and load generator share the machine's cores: figures from a
# machine busy with other work are noisy (the last lines print the load
# average and the time stolen by other guests, the table the time stolen
# during each run).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/load_common.sh

ITEMS=${1:-1000000}
SECONDS_PER_RATE=${2:-10}
shift 2 || shift $# || true
RATES=("$@")
[ ${#RATES[@]} -eq 0 ] && RATES=(100 300 1000 2000)
REF_REQUESTS=${REF_REQUESTS:-1000}
REF_QPS=${REF_QPS:-100}

# Configurations: NAME|SERVER FLAGS|APPROXIMATE (1: recall@10 is measured).
# Every server gets --threads=64: a scoring pass holds a request thread per
# request in it (server/README.md, Scoring passes).
ALL_CONFIGS=(
  "exact-alone|--scorer=exact --max_batch=1 --scan_threads=1|0"  # one scan per request, one core each
  "exact|--scorer=exact --max_batch=32|0"                                       # batching by load, scans split by range
  "hnsw|--scorer=hnsw|1"
  "int8|--scorer=int8 --max_batch=32|1"                                         # int8 candidate scan, exact float re-rank
  "int8-alone|--scorer=int8 --max_batch=1|1"                                    # the same, one scan per request (split by range at 1M)
  "ivf|--scorer=ivf|1"                                                          # k-means lists, the nearest scanned in int8, exact re-rank
)
COMMON_FLAGS="--threads=64 --rules=config/loadtest_rules.textproto"
# An HNSW index over 1M items is built at load: allow for it.
export SERVING_TIMEOUT_S=${SERVING_TIMEOUT_S:-1800}

LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
load_init bench-serve
homepage_requests "$ITEMS"
LOADGEN_MIX=("${HOMEPAGE_MIX[@]}" --seed=1)

# cpu_ticks PID: utime + stime of the process, in clock ticks.
cpu_ticks() { awk '{sub(/^[^)]*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }

# recall REFERENCE ANSWERS: mean recall@10 of ANSWERS against REFERENCE
# (loadgen --answers_out files) over requests answered OK in both.
recall() {
  awk 'NR == FNR { if ($2 == 0 && $3 != "") ref[$1] = $3; next }
       ($1 in ref) && $2 == 0 {
         n_ref = split(ref[$1], r, ","); if (n_ref > 10) n_ref = 10
         n_got = split($3, a, ",")
         for (x in got) delete got[x]
         for (i = 1; i <= n_got && i <= 10; i++) got[a[i]] = 1
         hit = 0
         for (i = 1; i <= n_ref; i++) if (r[i] in got) hit++
         sum += hit / n_ref; n++
       }
       END { if (n > 0) printf "%.3f (n=%d)", sum / n, n; else printf "n/a" }' "$1" "$2"
}

echo "building the store: $ITEMS items x 64 dims ..." >&2
make_store "$WORK/db" "$ITEMS"

echo "exact reference: first $REF_REQUESTS requests at $REF_QPS QPS ..." >&2
start_server "$WORK/db" $COMMON_FLAGS --scorer=exact
loadgen "$WORK/reference.report" --qps="$REF_QPS" --max_requests="$REF_REQUESTS" \
  --duration_s=300 --deadline_ms=30000 "${LOADGEN_MIX[@]}" --answers_out="$WORK/reference"
stop_server

selected=" ${CONFIGS:-} "
ROWS=()
for config in "${ALL_CONFIGS[@]}"; do
  IFS='|' read -r name flags approximate <<<"$config"
  if [ -n "${CONFIGS:-}" ] && [[ "$selected" != *" $name "* ]]; then continue; fi
  echo "configuration $name: $flags ..." >&2
  start_server "$WORK/db" $COMMON_FLAGS $flags
  loadgen "$WORK/warmup" --qps=50 --duration_s=2 "${LOADGEN_MIX[@]}"
  for qps in "${RATES[@]}"; do
    report="$WORK/$name-$qps.report"
    answers="$WORK/$name-$qps.answers"
    cpu_before=$(cpu_ticks "$SERVER_PID")
    batch_sum_before=$(metric affinity_scoring_batch_size_sum)
    batch_count_before=$(metric affinity_scoring_batch_size_count)
    pass_sum_before=$(metric affinity_scoring_pass_seconds_sum)
    times_before=$(cpu_times)
    loadgen "$report" --qps="$qps" --duration_s="$SECONDS_PER_RATE" "${LOADGEN_MIX[@]}" \
      --answers_out="$answers"
    stolen=$(stolen_percent "$times_before" "$(cpu_times)")
    cpu_after=$(cpu_ticks "$SERVER_PID")
    batch_sum=$(awk -v a="$(metric affinity_scoring_batch_size_sum)" -v b="$batch_sum_before" 'BEGIN {print a - b}')
    batch_count=$(awk -v a="$(metric affinity_scoring_batch_size_count)" -v b="$batch_count_before" 'BEGIN {print a - b}')
    pass_sum=$(awk -v a="$(metric affinity_scoring_pass_seconds_sum)" -v b="$pass_sum_before" 'BEGIN {print a - b}')
    completed=$(field "$report" completed)
    ok=$(count "$report" OK)
    due=$(field "$report" due)
    cpu_ms=$(awk -v t=$((cpu_after - cpu_before)) -v hz="$(getconf CLK_TCK)" -v n="${completed:-0}" \
      'BEGIN {if (n > 0) printf "%.2f", 1000 * t / hz / n; else print "n/a"}')
    batch=$(awk -v s="$batch_sum" -v c="$batch_count" 'BEGIN {if (c > 0) printf "%.1f", s / c; else print "-"}')
    pass_ms=$(awk -v s="$pass_sum" -v c="$batch_count" 'BEGIN {if (c > 0) printf "%.1f", 1000 * s / c; else print "-"}')
    rec="-"
    [ "$approximate" = 1 ] && rec=$(recall "$WORK/reference" "$answers")
    ROWS+=("$(printf '%-12s %6s %9s %9s %9s %7s %9s %6s %8s %8s  %s' "$name" "$qps" \
      "$(field "$report" ok_qps)" "$(quantile "$report" ok p50)" "$(quantile "$report" ok p99)" \
      "$((${due:-0} - ${ok:-0}))" "$cpu_ms" "$batch" "$pass_ms" "$stolen" "$rec")")
    echo "  $qps QPS: $(statuses "$report")" >&2
  done
  stop_server
done

echo "synthetic store: $ITEMS items x 64 dims, rule set homepage, 5 recent items per request, $SECONDS_PER_RATE s per rate; $(nproc) cores shared by server and load generator; load average at start: $LOAD_AT_START, at end: $(cut -d' ' -f1-3 /proc/loadavg); time stolen by other guests: $(stolen_since_start)%"
echo "exact reference: $(count "$WORK/reference.report" OK) of $REF_REQUESTS requests answered OK"
printf '%-12s %6s %9s %9s %9s %7s %9s %6s %8s %8s  %s\n' configuration qps achieved p50_ms p99_ms errors cpu_ms/req batch pass_ms stolen% recall@10
for row in "${ROWS[@]}"; do echo "$row"; done
