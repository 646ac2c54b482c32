#!/usr/bin/env bash
# `affinity-train import` as an operator runs it: usage errors exit 2, the
# bundled Spark factor directories publish a spark_als version, bad input
# publishes nothing.
set -uo pipefail

TRAIN="$TEST_SRCDIR/affinity/trainer/affinity-train"
DATA="$TEST_SRCDIR/affinity/tests/import/testdata/spark_als"
TMP="$TEST_TMPDIR"
DB="$TMP/db"
source "$TEST_SRCDIR/affinity/tests/testing/cli_checks.sh"

expect_exit 2 "--user_factors" -- "$TRAIN" import --db="$DB" --item_factors="$DATA/item_factors"
expect_exit 2 "--item_factors" -- "$TRAIN" import --db="$DB" --user_factors="$DATA/user_factors"
expect_exit 2 "--db" -- "$TRAIN" import --user_factors="$DATA/user_factors" --item_factors="$DATA/item_factors"
expect_exit 2 "$TMP/none: no such file" -- "$TRAIN" import --db="$DB" \
  --user_factors="$TMP/none" --item_factors="$DATA/item_factors"

# A --db that cannot be written: refused before the factors are read.
touch "$TMP/not-a-dir"
expect_exit 2 "--db: cannot write a model store at $TMP/not-a-dir/db: $TMP/not-a-dir is not a directory" -- \
  "$TRAIN" import --db="$TMP/not-a-dir/db" --user_factors="$DATA/user_factors" \
  --item_factors="$DATA/item_factors"

mkdir -p "$TMP/nan_items"
printf '{"id":100,"features":[0.1,0.2,0.3]}\n{"id":101,"features":[0.1,"NaN",0.3]}\n' \
  > "$TMP/nan_items/part-00000"
expect_exit 2 "nan_items/part-00000:2: features\[1\] is the non-finite value" -- \
  "$TRAIN" import --db="$DB" --user_factors="$DATA/user_factors" --item_factors="$TMP/nan_items"
[ -d "$DB/models" ] && fail "bad input created the store"

printf 'user,item\n1,100\n3,103\n99,100\n' > "$TMP/interactions.csv"
expect_exit 0 "published model version 1 to $DB (spark_als, 5 users, 6 items, 3 dims;" -- \
  "$TRAIN" import --db="$DB" --user_factors="$DATA/user_factors" \
  --item_factors="$DATA/item_factors" --interactions="$TMP/interactions.csv" \
  --alpha=40 --regularization=0.1
out=$("$TRAIN" versions --db="$DB")
grep -q "^live 1 .*spark_als .* 5 .* 6 .* 3" <<<"$out" || fail "versions: $out"
# The same factors again: every interaction is already in live version 1's
# data, so the gate has nothing to compare on; the version is stored but may
# not serve (exit 3), and --force publishes it.
expect_exit 3 "not comparable" -- "$TRAIN" import --db="$DB" \
  --user_factors="$DATA/user_factors" --item_factors="$DATA/item_factors" \
  --interactions="$TMP/interactions.csv"
grep -q "^live 1 " <<<"$("$TRAIN" versions --db="$DB")" || fail "a gated import became live"
expect_exit 0 "gate overridden by --force" -- "$TRAIN" import --db="$DB" \
  --user_factors="$DATA/user_factors" --item_factors="$DATA/item_factors" \
  --interactions="$TMP/interactions.csv" --force
# User 3 saw 103; by the file vectors 101 scores 0.3775 and 100 0.2874.
out=$("$TRAIN" recommend --db="$DB" --users=3 --k=2)
grep -q "1\. 101 *0\.3775" <<<"$out" || fail "recommend: $out"
grep -q "2\. 100 *0\.2874" <<<"$out" || fail "recommend: $out"

finish "affinity-train import"
