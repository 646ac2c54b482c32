#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds,
# loads the bundled MovieLens catalog, trains an implicit ALS model on the
# bundled ratings, publishes it to the RocksDB model store under ./var/db,
# prints the holdout evaluation and the top-10 of three users, then starts
# affinity-server on the model, queries it through the affinity CLI and
# stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install_deps.sh
bazel build --jobs=2 //trainer:affinity-train //server:affinity-server //tools:affinity

TRAIN=bazel-bin/trainer/affinity-train
SERVER=bazel-bin/server/affinity-server
CLI=bazel-bin/tools/affinity
DB=var/db
DATA=data/movielens-latest-small
LISTEN=127.0.0.1:50051
METRICS=127.0.0.1:9464
mkdir -p var

echo "== loading the catalog from $DATA/movies.csv"
"$TRAIN" catalog --db="$DB" --input="$DATA/movies.csv" --catalog_format=movielens

echo "== training on $DATA/ratings.csv"
"$TRAIN" --db="$DB" --input="$DATA/ratings.csv" --format=movielens \
  --factors=64 --iterations=15 --regularization=0.01 --alpha=1 --weight=raw \
  --holdout=0.2 --holdout_by=random --k=10 --seed=1 --threads=2 \
  --report=var/report.html --metrics_json=var/metrics.json

echo "== published versions"
"$TRAIN" versions --db="$DB"

echo "== top-10 of the live model, read back from the store"
"$TRAIN" recommend --db="$DB" --users=1,42,414 --k=10

echo "== starting affinity-server on $LISTEN (metrics on http://$METRICS/metrics)"
"$SERVER" --db="$DB" --listen="$LISTEN" --metrics_listen="$METRICS" >var/server.log 2>&1 &
SERVER_PID=$!
stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}
trap stop_server EXIT
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

echo "== report: var/report.html   metrics: var/metrics.json   server log: var/server.log"
