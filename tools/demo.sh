#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds,
# loads the bundled MovieLens catalog, trains an implicit ALS model on the
# bundled ratings, publishes it to the RocksDB model store under ./var/db,
# and prints the holdout evaluation and the top-10 for three users.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install_deps.sh
bazel build --jobs=2 //trainer:affinity-train

TRAIN=bazel-bin/trainer/affinity-train
DB=var/db
DATA=data/movielens-latest-small
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

echo "== top-10 of the live model"
"$TRAIN" recommend --db="$DB" --users=1,42,414 --k=10

echo "== report: var/report.html   metrics: var/metrics.json"
