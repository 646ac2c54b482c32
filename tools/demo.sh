#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds,
# loads the bundled MovieLens catalog into a fresh store under ./var/db, runs
# the nightly job twice (night 1 on the oldest 90% of the bundled ratings,
# then the same night again, which does nothing; night 2 on all of them,
# compared with night 1's model on the ratings neither saw) with a canary
# policy, so that night 2's model serves half of the users; prints the
# evaluations and the top-10 of three users; then starts affinity-server with
# the business rules of config/rules.textproto, queries it through the
# affinity CLI (plain, fold-in, anonymous, similar, each rule set, a live
# catalog update, the A/B arms, an outcome, promote and rollback) and stops.
#
#   tools/demo.sh           the demo, then the server stops
#   tools/demo.sh --serve   the demo, then the server keeps serving on
#                           127.0.0.1:50051 (metrics 127.0.0.1:9464, catalog
#                           admin 127.0.0.1:50052) until Ctrl-C
set -euo pipefail
cd "$(dirname "$0")/.."

SERVE=0
for arg in "$@"; do
  case "$arg" in
    --serve) SERVE=1 ;;
    *) echo "usage: tools/demo.sh [--serve]" >&2; exit 2 ;;
  esac
done

tools/install_deps.sh
bazel build --jobs=2 //trainer:affinity-train //server:affinity-server //tools:affinity

TRAIN=bazel-bin/trainer/affinity-train
SERVER=bazel-bin/server/affinity-server
CLI=bazel-bin/tools/affinity
DB=var/db
DATA=data/movielens-latest-small
LISTEN=127.0.0.1:50051
METRICS=127.0.0.1:9464
ADMIN=127.0.0.1:50052
RULES=config/rules.textproto
mkdir -p var

echo "== a fresh store in $DB (the demo's own; removed at each run)"
rm -rf "$DB"
echo "== loading the catalog from $DATA/movies.csv"
"$TRAIN" catalog --db="$DB" --input="$DATA/movies.csv" --catalog_format=movielens

# Night 1 sees the oldest 90% of the ratings by timestamp.
NIGHT1=var/ratings-night1.csv
total=$(($(wc -l <"$DATA/ratings.csv") - 1))
{ head -1 "$DATA/ratings.csv"; tail -n +2 "$DATA/ratings.csv" | sort -t, -k4,4n | awk -v n=$((total * 9 / 10)) 'NR <= n'; } >"$NIGHT1"
NIGHTLY_FLAGS=(--db="$DB" --format=movielens --factors=64 --iterations=15 --regularization=0.01
  --alpha=1 --weight=raw --holdout=0.2 --holdout_by=random --k=10 --seed=1 --threads=2)
# Exit code 3 means the gate refused the candidate: stored, not serving.
nightly() {
  local code=0
  "$TRAIN" nightly "${NIGHTLY_FLAGS[@]}" "$@" || code=$?
  [ "$code" -eq 0 ] || [ "$code" -eq 3 ] || exit "$code"
}
echo "== night 1: affinity-train nightly on $NIGHT1 (the first version of the store passes the gate)"
nightly --input="$NIGHT1"
echo "== the same night again: nothing to train (same input bytes and parameters)"
nightly --input="$NIGHT1"
echo "== canary policy: each new eligible version starts as the arm canary on 50% of users"
"$CLI" rollout policy --db="$DB" --mode=canary --canary_fraction=50% --reason="demo"
echo "== night 2: all of $DATA/ratings.csv, compared with version 1 on the ratings it never saw"
nightly --input="$DATA/ratings.csv" --report=var/report.html --metrics_json=var/metrics.json

echo "== published versions"
"$TRAIN" versions --db="$DB"

echo "== top-10 of the live model, read back from the store"
"$TRAIN" recommend --db="$DB" --users=1,42,414 --k=10

echo "== starting affinity-server on $LISTEN (metrics on http://$METRICS/metrics, rules $RULES)"
"$SERVER" --db="$DB" --listen="$LISTEN" --metrics_listen="$METRICS" --admin_listen="$ADMIN" \
  --rules="$RULES" >var/server.log 2>&1 &
SERVER_PID=$!
stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}
trap stop_server EXIT
trap 'exit 130' INT TERM
if ! /usr/bin/python3 tools/wait_for_serving.py --server="$LISTEN" --timeout_s=60 --pid="$SERVER_PID"; then
  echo "affinity-server did not start; its log (var/server.log):" >&2
  cat var/server.log >&2
  exit 1
fi

echo "== affinity recommend --user=1 --k=10"
"$CLI" recommend --server="$LISTEN" --db="$DB" --user=1 --k=10
echo "== affinity recommend --user=42 --k=5 --recent=1:5,2571:5 (folded in on the spot)"
"$CLI" recommend --server="$LISTEN" --db="$DB" --user=42 --k=5 --recent=1:5,2571:5
echo "== affinity recommend --k=5 --recent=1:5,2:4 (anonymous session)"
"$CLI" recommend --server="$LISTEN" --db="$DB" --k=5 --recent=1:5,2:4
echo "== affinity similar --item=1 --k=5 (Toy Story)"
"$CLI" similar --server="$LISTEN" --db="$DB" --item=1 --k=5

echo "== business rules ($RULES)"
echo "== affinity recommend --user=1 --k=10 --rule_set=no_horror (no item whose genres include Horror)"
"$CLI" recommend --server="$LISTEN" --db="$DB" --user=1 --k=10 --rule_set=no_horror
echo "== affinity recommend --user=1 --k=10 --rule_set=diverse (at most 2 per first-listed genre)"
"$CLI" recommend --server="$LISTEN" --db="$DB" --user=1 --k=10 --rule_set=diverse
echo "== affinity recommend --user=1 --k=10 --rule_set=pin_toy_story --explain (movieId 1 on slot 1)"
"$CLI" recommend --server="$LISTEN" --db="$DB" --user=1 --k=10 --rule_set=pin_toy_story --explain
echo "== affinity recommend --user=414 --k=10 --rule_set=homepage (2005 or later, age boost, 3 per genre, Up on slot 3)"
"$CLI" recommend --server="$LISTEN" --db="$DB" --user=414 --k=10 --rule_set=homepage
echo "== live catalog: Up (68954) goes out of stock through the admin port (its title and genres stay), homepage drops it at once"
"$CLI" admin upsert --admin_server="$ADMIN" --item_json='{"itemId":"68954","inStock":false}'
"$CLI" recommend --server="$LISTEN" --db="$DB" --user=414 --k=5 --rule_set=homepage
echo "== back in stock"
"$CLI" admin upsert --admin_server="$ADMIN" --item_json='{"itemId":"68954","inStock":true}'
"$CLI" recommend --server="$LISTEN" --db="$DB" --user=414 --k=5 --rule_set=homepage
echo "== rule metrics"
/usr/bin/python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' \
  "http://$METRICS/metrics" | grep '^affinity_rule_items_total' | grep -v ' 0$' || true

echo "== A/B rollout: each user's arm is a hash of (salt, user id); answers name arm and version"
"$CLI" rollout show --db="$DB"
for user in 1 2 3 4 5 6; do
  echo "user $user: $("$CLI" recommend --server="$LISTEN" --user=$user --k=3 | head -1)"
done
echo "== the backend reports a click on user 1's first item, by the answer's request_id"
answer=$("$CLI" recommend --server="$LISTEN" --user=1 --k=1)
request_id=$(head -1 <<<"$answer" | sed -n 's/.*request_id: \([^ ]*\).*/\1/p')
item=$(sed -n '3s/^ *1  \([^ ]*\).*/\1/p' <<<"$answer")
"$CLI" outcome --server="$LISTEN" --request_id="$request_id" --item="$item" --event=impression --user=1
"$CLI" outcome --server="$LISTEN" --request_id="$request_id" --item="$item" --event=click --user=1
sleep 1.2  # request counts reach the events store once a second
"$CLI" rollout status --db="$DB" || true
if "$CLI" rollout show --db="$DB" | grep -q "canary"; then
  echo "== promote the canary (it becomes control for everyone), then roll back in one command"
  "$CLI" rollout promote --admin="$ADMIN" --reason="demo"
  "$CLI" rollout rollback --admin="$ADMIN" --reason="demo"
  "$CLI" rollout history --db="$DB" --limit=5
fi

echo "== report: var/report.html   metrics: var/metrics.json   server log: var/server.log"
if [ "$SERVE" = 1 ]; then
  echo "== serving on $LISTEN (metrics http://$METRICS/metrics, catalog admin $ADMIN); Ctrl-C stops"
  wait "$SERVER_PID" || true
fi
