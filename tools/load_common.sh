# Shell functions shared by the load scripts (tools/bench_overload.sh,
# tools/bench_swaps.sh, tools/soak_vanishing.sh); source it from the
# repository root. Every server it starts listens on free loopback ports,
# and every process it starts is stopped by its own pid on exit
# (load_cleanup, installed as the EXIT trap by load_init). SERVER_BIN=PATH
# runs another server binary (e.g. an earlier build, side by side).

LOAD_BINARIES="//server:affinity-server //server:synthetic_store //tools/loadgen:loadgen"
SERVER=${SERVER_BIN:-bazel-bin/server/affinity-server}
SYNTHETIC_STORE=bazel-bin/server/synthetic_store
LOADGEN=bazel-bin/tools/loadgen/loadgen

SERVER_PID=
GRPC_PORT=
METRICS_PORT=
LOAD_PIDS=()

# homepage_requests ITEMS: the load-test request mix of the synthetic store
# (rule set homepage of config/loadtest_rules.textproto, 5 recent items per
# request drawn from the ids in $WORK/items.txt, which it writes: the store's
# ids i0 .. i<ITEMS - 1>) as loadgen flags in HOMEPAGE_MIX. Call after load_init.
homepage_requests() {
  seq 0 $(($1 - 1)) | sed 's/^/i/' >"$WORK/items.txt"
  HOMEPAGE_MIX=(--rule_set=homepage --recent_per_request=5 --items_file="$WORK/items.txt")
}

# cpu_times: "STOLEN TOTAL", the machine's CPU time so far in clock ticks,
# from /proc/stat's cpu line: steal (time the hypervisor gave this
# machine's CPUs to other guests) and the sum of user .. steal.
cpu_times() { awk '$1 == "cpu" {t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t}' /proc/stat; }

# stolen_percent "BEFORE" "AFTER": the share of the machine's time stolen
# between two cpu_times readings, in percent ("n/a" when no time passed).
# Figures from a run with time stolen are the neighbours' as much as the
# server's.
stolen_percent() {
  awk -v before="$1" -v after="$2" 'BEGIN {split(before, b, " "); split(after, a, " ");
    t = a[2] - b[2]; if (t > 0) printf "%.1f", 100 * (a[1] - b[1]) / t; else print "n/a"}'
}

# stolen_since_start: stolen_percent since load_init (after the build).
stolen_since_start() { stolen_percent "$LOAD_TIMES_AT_START" "$(cpu_times)"; }

# load_init NAME: builds the binaries and makes $WORK (removed on exit).
load_init() {
  bazel build --jobs=2 $LOAD_BINARIES >/dev/null 2>&1 || bazel build --jobs=2 $LOAD_BINARIES
  WORK=$(mktemp -d "/tmp/affinity-$1.XXXXXX")
  trap load_cleanup EXIT
  LOAD_TIMES_AT_START=$(cpu_times)
}

load_cleanup() {
  local pid
  for pid in "${LOAD_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  stop_server
  rm -rf "$WORK"
}

# make_store DB ITEMS: a synthetic store (ITEMS x 64 dims, 1,000 users u1..u1000,
# exact scorer, a catalog of the same items). Run again on DB, it publishes a
# new version with the same vectors. Flags in the environment variable
# STORE_FLAGS are added (e.g. STORE_FLAGS=--build_index=ivf: each version
# carries its IVF lists, as one published by `affinity-train --build_index=ivf`).
make_store() {
  "$SYNTHETIC_STORE" --db="$1" --items="$2" --users=1000 ${STORE_FLAGS:-} >/dev/null
}

# start_server DB [flags...]: sets SERVER_PID, GRPC_PORT, METRICS_PORT once
# the server answers SERVING. Its log is $WORK/server.log. Flags in the
# environment variable SERVER_FLAGS are added (e.g. SERVER_FLAGS=--threads=16).
# It waits up to SERVING_TIMEOUT_S (default 120) seconds for SERVING.
start_server() {
  local db=$1
  shift
  "$SERVER" --db="$db" --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 --admin_listen= \
    --events=false --autopilot_seconds=0 "$@" ${SERVER_FLAGS:-} 2>"$WORK/server.log" &
  SERVER_PID=$!
  local line=
  for _ in $(seq 300); do
    line=$(grep -m1 'started: grpc' "$WORK/server.log" || true)
    [ -n "$line" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$line" ]; then
    echo "server did not start:" >&2
    cat "$WORK/server.log" >&2
    exit 1
  fi
  GRPC_PORT=$(sed -E 's/.*started: grpc [^ ]+ \(port ([0-9]+)\).*/\1/' <<<"$line")
  METRICS_PORT=$(sed -E 's/.*, metrics [^ ]+ \(port ([0-9]+)\).*/\1/' <<<"$line")
  /usr/bin/python3 tools/wait_for_serving.py --server "127.0.0.1:$GRPC_PORT" --pid "$SERVER_PID" \
    --timeout_s "${SERVING_TIMEOUT_S:-120}"
}

stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}

# metric NAME_WITH_LABELS: the value of one series of the server's /metrics.
metric() {
  curl -s "http://127.0.0.1:$METRICS_PORT/metrics" |
    awk -v name="$1" '$1 == name {print $2; found=1} END {if (!found) print 0}'
}

# loadgen REPORT [flags...]: tools/loadgen against the server, users
# u1..u1000; the report goes to REPORT (exit status ignored).
loadgen() {
  local report=$1
  shift
  "$LOADGEN" --server="127.0.0.1:$GRPC_PORT" --num_users=1000 --user_prefix=u "$@" \
    >"$report" 2>&1 || true
}

# field REPORT KEY: a "KEY: value" line of a loadgen report.
field() { awk -v key="$2:" '$1 == key {print $2}' "$1"; }
# statuses REPORT: "OK: n RESOURCE_EXHAUSTED: m ..." on one line.
statuses() { awk '/^status / {sub(/^status /, ""); printf "%s ", $0}' "$1"; }
# quantile REPORT KIND Q: e.g. quantile r ok p99 -> milliseconds.
quantile() {
  sed -n "s/^latency_ms $2: //p" "$1" | tr -s ' ' '\n' | awk -v q="$3" '$1 == q {getline; print; exit}'
}
# count REPORT CODE: how many calls ended with CODE.
count() { awk -v code="$2:" '$1 == "status" && $2 == code {print $3; found=1} END {if (!found) print 0}' "$1"; }

# rss_sampler PID FILE PERIOD_S: appends "SECONDS_SINCE_START RSS_KB" lines
# to FILE every PERIOD_S while PID lives; runs in the background (its pid is
# in LOAD_PIDS).
rss_sampler() {
  local pid=$1 file=$2 period=$3
  (
    start=$(date +%s.%N)
    while rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) && [ -n "$rss" ]; do
      echo "$(awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN {printf "%.1f", n - s}') $rss" >>"$file"
      sleep "$period"
    done
  ) &
  LOAD_PIDS+=($!)
  for _ in $(seq 50); do [ -s "$file" ] && break; sleep 0.1; done
}

# rss_summary FILE [FROM_S]: first, last and max RSS (MB) and the slope of a
# least-squares line (MB per minute) over the samples from FROM_S on.
rss_summary() {
  awk -v from="${2:-0}" '$1 >= from {
      n++; t[n] = $1; r[n] = $2 / 1024
      if (n == 1 || r[n] > max) max = r[n]
      st += $1; sr += r[n]; stt += $1 * $1; str += $1 * r[n]
    }
    END {
      if (n < 2) { print "rss: too few samples"; exit }
      slope = (n * str - st * sr) / (n * stt - st * st) * 60
      printf "rss_mb: first %.1f  last %.1f  max %.1f  slope %+.2f MB/min  (%d samples over %.0f s)\n",
             r[1], r[n], max, slope, n, t[n] - t[1]
    }' "$1"
}
