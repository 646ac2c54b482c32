#!/usr/bin/env bash
# affinity-train's command-line contract: exit codes (0 ok, 2 bad input or
# usage), file:line errors, skip mode, publishing, version admin, and the
# top-k preview with catalog titles, on the bundled MovieLens data.
set -uo pipefail

TRAIN="$TEST_SRCDIR/affinity/trainer/affinity-train"
DATA="$TEST_SRCDIR/affinity/data/movielens-latest-small"
TMP="$TEST_TMPDIR"
DB="$TMP/db"
source "$TEST_SRCDIR/affinity/tests/testing/cli_checks.sh"

expect_exit 2 "--input" -- "$TRAIN"
expect_exit 2 "unknown command 'frobnicate'" -- "$TRAIN" frobnicate --db="$DB"
expect_exit 2 "nope.csv" -- "$TRAIN" --input="$TMP/nope.csv" --db="$DB"
expect_exit 2 "--solver" -- "$TRAIN" --input="$DATA/ratings.csv" --db="$DB" --solver=sgd
expect_exit 2 "--factors" -- "$TRAIN" --input="$DATA/ratings.csv" --db="$DB" --factors=0
expect_exit 2 "--build_index: expected \"hnsw\"" -- "$TRAIN" --input="$DATA/ratings.csv" --db="$DB" --build_index=annoy

# --build_index=hnsw stores the items' graph with the version it publishes.
expect_exit 0 "index hnsw/M=16,ef_construction=200 of version 1: [0-9]* bytes stored with the version" -- "$TRAIN" \
  --input="$DATA/ratings.csv" --format=movielens --db="$TMP/indexed" --factors=4 --iterations=1 \
  --holdout=0 --puresvd=false --threads=2 --build_index=hnsw

expect_exit 2 "--report: cannot write" -- "$TRAIN" --input="$DATA/ratings.csv" --db="$DB" --report="$TMP/missing-dir/r.html"

# A --db that cannot be written is found before ingest and training (the
# whole MovieLens file would take a while), and nothing is created.
expect_exit 2 "--db: cannot write a model store at $TMP/r.csv/db: $TMP/r.csv is not a directory" -- \
  bash -c "touch '$TMP/r.csv' && '$TRAIN' --input='$DATA/ratings.csv' --format=movielens --db='$TMP/r.csv/db'"
out=$("$TRAIN" --input="$DATA/ratings.csv" --format=movielens --db=/proc/affinity-db 2>&1)
grep -q "cannot create files in /proc" <<<"$out" || fail "unwritable --db not refused: $out"
grep -q "^read \|training" <<<"$out" && fail "ingest or training ran before the --db check: $out"
[ -e /proc/affinity-db ] && fail "created /proc/affinity-db"

# Read-only and admin commands on a path without a store: an error, and no
# empty store left behind.
for cmd in "versions" "recommend --users=1" "rollback --version=1" "unpin" "delete --version=1"; do
  # shellcheck disable=SC2086
  expect_exit 1 "no model store at $TMP/typo" -- "$TRAIN" $cmd --db="$TMP/typo"
done
[ -e "$TMP/typo" ] && fail "an admin command created $TMP/typo"

printf 'user,item,weight\na,x,1\nb,y,nan\nc,z,2\n' > "$TMP/nan.csv"
expect_exit 2 "nan.csv:3:" -- "$TRAIN" --input="$TMP/nan.csv" --db="$DB"
[ -d "$DB/models" ] && "$TRAIN" versions --db="$DB" | grep -q "^live" && fail "bad input published a version"

# Ids that are not UTF-8 (a Windows-1252 export) would break every client
# that receives them: refused, nothing published.
printf 'user,item\na,x\nJos\xe9,y\n' > "$TMP/cp1252.csv"
expect_exit 2 "cp1252.csv:3: user id 'Jos\\\\xe9' is not valid UTF-8" -- "$TRAIN" --input="$TMP/cp1252.csv" --db="$DB"
[ -d "$DB/models" ] && "$TRAIN" versions --db="$DB" | grep -q "^live" && fail "bad UTF-8 published a version"

# Skip mode reports the bad row and trains on the rest.
expect_exit 0 "skipped 1 malformed rows" -- "$TRAIN" --input="$TMP/nan.csv" --no_publish \
  --holdout=0 --factors=2 --iterations=1 --on_error=skip

# A real run publishes version 1, a second one version 2.
COMMON=(--input="$DATA/ratings.csv" --format=movielens --db="$DB" --factors=8
        --iterations=3 --threads=2 --k=10)
expect_exit 0 "published model version 1" -- "$TRAIN" "${COMMON[@]}" --metrics_json="$TMP/m.json" --report="$TMP/r.html"
grep -q '"precision_at_k"' "$TMP/m.json" || fail "metrics json lacks precision_at_k"
grep -q '<svg' "$TMP/r.html" || fail "report has no plot"
expect_exit 0 "published model version 2" -- "$TRAIN" "${COMMON[@]}" --holdout=0
# Without a catalog, ids alone; recommend creates none.
expect_exit 0 "model version 2" -- "$TRAIN" recommend --db="$DB" --users=1 --k=3
[ -e "$DB/catalog" ] && fail "recommend created an empty catalog"

printf 'movieId,title,genres\n1,Am\xe9lie (2001),Comedy\n' > "$TMP/movies-cp1252.csv"
expect_exit 2 "movies-cp1252.csv:2: title is not valid UTF-8" -- "$TRAIN" catalog --db="$DB" --input="$TMP/movies-cp1252.csv"
expect_exit 0 "loaded 9742 items" -- "$TRAIN" catalog --db="$DB" --input="$DATA/movies.csv" --catalog_format=movielens
expect_exit 0 "(19[0-9][0-9])" -- "$TRAIN" recommend --db="$DB" --users=1,2 --k=5
# A stock-only update of every item keeps the titles; unknown columns are named.
{ echo "item_id,in_stock,warehouse"; tail -n +2 "$DATA/movies.csv" | cut -d, -f1 | sed 's/$/,no,north/'; } > "$TMP/stock.csv"
expect_exit 0 "0 added, 9742 updated, 0 unchanged (9742 items in the catalog)" -- "$TRAIN" catalog --db="$DB" --input="$TMP/stock.csv"
expect_exit 0 "ignored columns that are not catalog columns: 'warehouse'" -- "$TRAIN" catalog --db="$DB" --input="$TMP/stock.csv"
expect_exit 0 "(19[0-9][0-9])" -- "$TRAIN" recommend --db="$DB" --users=1,2 --k=5
expect_exit 2 "stock.csv:1: --columns names 'Stock'" -- "$TRAIN" catalog --db="$DB" --input="$TMP/stock.csv" --columns=Stock:in_stock

# Roll back to 1, then follow the newest again.
expect_exit 0 "pinned to 1" -- "$TRAIN" rollback --db="$DB" --version=1
"$TRAIN" versions --db="$DB" | grep -q "^live 1 " || fail "version 1 not live after rollback"
expect_exit 2 "" -- "$TRAIN" rollback --db="$DB" --version=99
expect_exit 0 "now 2" -- "$TRAIN" unpin --db="$DB"
expect_exit 0 "deleted version 1" -- "$TRAIN" delete --db="$DB" --version=1
"$TRAIN" versions --db="$DB" | grep -q "^live 2 " || fail "version 2 not live after delete of 1"

finish "affinity-train CLI"
