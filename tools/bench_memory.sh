#!/usr/bin/env bash
# Memory of a server holding a catalog-scale version: builds the synthetic
# store (//server:synthetic_store, ITEMS x 64 dims, 1,000 users, a catalog
# of the same items) and starts the server on it (exact scorer unless
# SERVER_FLAGS says otherwise, the load-test rules), then on a copy of the
# store without its catalog. Prints:
#   - the item vectors' size (ITEMS x 64 floats);
#   - VmRSS once serving, with and without the catalog; the difference is
#     what the catalog costs the server (its snapshot, and the per-item
#     records the prepared rules point to);
#   - the bound RSS <= 2 x item vectors + catalog, and whether it holds;
#   - SWAPS (3) swaps: another version is imported while one serves (as a
#     serving replica receives it; the catalog does not change); RSS is
#     sampled every 0.1 s until the new version serves and the old one is
#     freed; the peak over the steady RSS is what the swap held beyond one
#     version, compared with one version's memory: RSS without the catalog
#     less the RSS of a server without any version (--create_store on an
#     empty directory: gRPC, RocksDB, the process itself), plus the scan
#     copies the version's prepared rules hold with the catalog (the
#     server's "rules prepared for version N: ..., scan copies X MB" line;
#     without a catalog no rule set keeps an item, so there are none).
# The figures are RSS as the kernel counts it (glibc may keep freed memory).
#
# Usage: tools/bench_memory.sh [ITEMS=1000000]
#   SERVER_FLAGS=...  added to every server (e.g. --scorer=ivf)
#   STORE_FLAGS=...   added to every synthetic_store run (e.g. --build_index=ivf:
#                     each version carries its IVF lists)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/load_common.sh

ITEMS=${1:-1000000}
export SERVING_TIMEOUT_S=${SERVING_TIMEOUT_S:-1800}
RULES=(--rules=config/loadtest_rules.textproto)
TRAIN=bazel-bin/trainer/affinity-train
load_init bench-memory
bazel build --jobs=2 //trainer:affinity-train >/dev/null 2>&1

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
mb() { awk -v k="$1" 'BEGIN {printf "%.0f", k / 1024}'; }
control_version() {
  curl -s "http://127.0.0.1:$METRICS_PORT/metrics" |
    sed -n 's/^affinity_model_loaded{arm="control",version="\([0-9]*\)"} 1$/\1/p'
}

"$SERVER" --db="$WORK/empty" --create_store --listen=127.0.0.1:0 --metrics_listen= \
  --admin_listen= --events=false --autopilot_seconds=0 "${RULES[@]}" ${SERVER_FLAGS:-} \
  2>"$WORK/empty.log" &
empty_pid=$!
LOAD_PIDS+=("$empty_pid")
sleep 3
base=$(rss_kb "$empty_pid")
kill "$empty_pid"

make_store "$WORK/db" "$ITEMS"
cp -r "$WORK/db" "$WORK/no-catalog"
rm -rf "$WORK/no-catalog/catalog"

start_server "$WORK/no-catalog" "${RULES[@]}"
sleep 2
without=$(rss_kb "$SERVER_PID")
stop_server

start_server "$WORK/db" "${RULES[@]}"
sleep 2
with=$(rss_kb "$SERVER_PID")

vectors_kb=$((ITEMS * 64 * 4 / 1024))
catalog_kb=$((with - without))
bound_kb=$((2 * vectors_kb + catalog_kb))
echo "synthetic $ITEMS items x 64; $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "item vectors:                 $(mb "$vectors_kb") MB"
echo "RSS serving, with catalog:    $(mb "$with") MB"
echo "RSS serving, without catalog: $(mb "$without") MB  (the catalog costs $(mb "$catalog_kb") MB)"
echo "bound 2 x vectors + catalog:  $(mb "$bound_kb") MB: $([ "$with" -le "$bound_kb" ] && echo holds || echo EXCEEDED)"

# Swaps: versions 2.. of another store with the same items, exported
# before and imported one by one while the server serves (as a serving
# replica receives them; the catalog does not change). RSS is sampled from
# the import's start until 3 s after the server serves the new version (the
# old one is freed at the next poll).
SWAPS=${SWAPS:-3}
for _ in $(seq $((SWAPS + 1))); do make_store "$WORK/source" "$ITEMS"; done
for v in $(seq 2 $((SWAPS + 1))); do
  "$TRAIN" export --db="$WORK/source" --version="$v" --to="$WORK/ship/$v" >/dev/null
done
copies_mb=$(sed -n 's/.*rules prepared for version [0-9]*: .*, scan copies \([0-9.]*\) MB$/\1/p' \
  "$WORK/server.log" | tail -1)
copies_kb=$(awk -v m="${copies_mb:-0}" 'BEGIN {printf "%d", m * 1024}')
version_kb=$((without - base + copies_kb))
echo "one version: $(mb "$version_kb") MB (RSS without catalog less $(mb "$base") MB of a server without a version, plus ${copies_mb:-0} MB of the rules' scan copies)"
for swap in $(seq "$SWAPS"); do
  before=$(control_version)
  steady=$(rss_kb "$SERVER_PID")
  peak=$steady
  "$TRAIN" import-version --from="$WORK/ship/$((before + 1))" --db="$WORK/db" >/dev/null &
  publisher=$!
  served=
  for _ in $(seq 18000); do
    r=$(rss_kb "$SERVER_PID")
    [ "$r" -gt "$peak" ] && peak=$r
    if [ -z "$served" ] && [ "$(control_version)" != "$before" ]; then served=$SECONDS; fi
    if [ -n "$served" ] && [ $((SECONDS - served)) -ge 3 ]; then break; fi
    sleep 0.1
  done
  wait "$publisher"
  [ -n "$served" ] || { echo "the new version was not served" >&2; exit 1; }
  after=$(rss_kb "$SERVER_PID")
  echo "swap $swap: RSS before $(mb "$steady") MB, peak $(mb "$peak") MB (+$(mb $((peak - steady))) MB: $(awk -v p=$((peak - steady)) -v v="$version_kb" 'BEGIN {printf "%.2f", p / v}') versions; bound 1), after $(mb "$after") MB"
done
