#!/usr/bin/env bash
# Trainer benchmark: generates the synthetic sets S (100k users x 20k items x
# 5M interactions, seed 1) and L (500k x 100k x 25M, seed 2) with
# ../shared/bench/gen_synthetic.py, trains implicit ALS (CG, factors 64,
# regularization 0.01, alpha 1, 15 iterations, 2 threads) on a seeded random
# 20% per-user holdout and prints s/iter (median), total seconds, peak RSS
# against its bound, p@10, ndcg@10 and ingest MB/s. MovieLens 100K is run
# too when ../shared/data/movielens-100k exists.
#
# Usage: tools/bench_train.sh [S] [L] [ML100K]   (default: all)
# Generated data is cached in $BENCH_DIR (default /tmp/affinity-bench).
set -euo pipefail
cd "$(dirname "$0")/.."

SETS=("$@")
[ ${#SETS[@]} -eq 0 ] && SETS=(S L ML100K)
BENCH_DIR=${BENCH_DIR:-/tmp/affinity-bench}
GEN=../shared/bench/gen_synthetic.py
mkdir -p "$BENCH_DIR"

tools/install_deps.sh
bazel build --jobs=2 //trainer:affinity-train
TRAIN=bazel-bin/trainer/affinity-train

generate() {  # name users items nnz seed
  local out="$BENCH_DIR/$1.csv"
  if [ ! -s "$out" ]; then
    [ -f "$GEN" ] || { echo "missing $GEN" >&2; exit 2; }
    echo "generating $1 ($2 users x $3 items x $4 interactions, seed $5)" >&2
    /usr/bin/python3 "$GEN" --users "$2" --items "$3" --nnz "$4" --seed "$5" --out "$out.tmp" >&2
    mv "$out.tmp" "$out"
  fi
  echo "$out"
}

summarize() {  # name metrics.json
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
m = json.load(open(path))
bound = 1.5 * m["model_and_data_bytes"] + 100e6
print(f"{name}: users {m['users']:.0f} items {m['items']:.0f} train nnz {m['nnz']:.0f} | "
      f"{m['seconds_per_iteration']:.3f} s/iter (median), train {m['train_seconds']:.1f} s | "
      f"peak RSS {m['peak_rss_bytes']/1e6:.0f} MB (bound {bound/1e6:.0f} MB) | "
      f"ingest {m['ingest_mb_per_s']:.0f} MB/s | "
      f"p@10 {m['model']['precision_at_k']:.3f} ndcg@10 {m['model']['ndcg_at_k']:.3f} | "
      f"most-popular p@10 {m['popularity']['precision_at_k']:.3f} ndcg@10 {m['popularity']['ndcg_at_k']:.3f}")
PY
}

run() {  # name input extra-flags...
  local name=$1 input=$2; shift 2
  local json="$BENCH_DIR/$name.metrics.json"
  "$TRAIN" --input="$input" --no_publish --factors=64 --regularization=0.01 --alpha=1 \
    --iterations=15 --threads=2 --solver=cg --cg_steps=3 --holdout=0.2 --holdout_by=random \
    --seed=1 --k=10 --metrics_json="$json" "$@" >"$BENCH_DIR/$name.log" 2>&1 \
    || { cat "$BENCH_DIR/$name.log" >&2; exit 1; }
  summarize "$name" "$json"
}

for set in "${SETS[@]}"; do
  case "$set" in
    S) run S "$(generate S 100000 20000 5000000 1)" ;;
    L) run L "$(generate L 500000 100000 25000000 2)" ;;
    ML100K)
      if [ -f ../shared/data/movielens-100k/u.data ]; then
        run ML100K ../shared/data/movielens-100k/u.data --format=movielens --weight=raw
      else
        echo "ML100K: skipped (../shared/data/movielens-100k/u.data not found)"
      fi ;;
    *) echo "unknown set $set (S, L or ML100K)" >&2; exit 2 ;;
  esac
done
