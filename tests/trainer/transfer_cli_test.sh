#!/usr/bin/env bash
# `affinity-train export` and `import-version` as an operator runs them:
# a version shipped to another store keeps its number and becomes live
# there, a second import is a no-op, a damaged export (exit 1) or a
# conflicting version (exit 2) writes nothing, usage errors exit 2.
set -uo pipefail

TRAIN="$TEST_SRCDIR/affinity/trainer/affinity-train"
TMP="$TEST_TMPDIR"
source "$TEST_SRCDIR/affinity/tests/testing/cli_checks.sh"

# 6 users x 8 items, each user with 5 or 6 of them.
{
  echo "user,item,weight"
  for u in 1 2 3 4 5 6; do for i in 1 2 3 4 5 6 7 8; do
    [ $(((u + i) % 3)) -ne 0 ] && echo "u$u,i$i,1"
  done; done
} > "$TMP/tiny.csv"
TRAIN_FLAGS=(--input="$TMP/tiny.csv" --factors=2 --iterations=1 --holdout=0 --threads=1)
"$TRAIN" "${TRAIN_FLAGS[@]}" --db="$TMP/a" > /dev/null || fail "training version 1"
"$TRAIN" "${TRAIN_FLAGS[@]}" --db="$TMP/a" --seed=2 > /dev/null || fail "training version 2"

expect_exit 2 "--to" -- "$TRAIN" export --db="$TMP/a" --version=2
expect_exit 2 "--version" -- "$TRAIN" export --db="$TMP/a" --to="$TMP/out"
expect_exit 2 "version 9 is not published" -- "$TRAIN" export --db="$TMP/a" --version=9 --to="$TMP/out"
[ -e "$TMP/out" ] && fail "a failed export left $TMP/out"
expect_exit 0 "exported version 2 of $TMP/a to $TMP/out (implicit_als_cg, 6 users, 8 items, 2 dims" -- \
  "$TRAIN" export --db="$TMP/a" --version=2 --to="$TMP/out"
expect_exit 2 "exists and is not an empty directory" -- \
  "$TRAIN" export --db="$TMP/a" --version=2 --to="$TMP/out"

expect_exit 2 "--from" -- "$TRAIN" import-version --db="$TMP/b"
expect_exit 0 "imported version 2 into $TMP/b" -- "$TRAIN" import-version --from="$TMP/out" --db="$TMP/b"
"$TRAIN" versions --db="$TMP/b" | grep -q "^live 2 " || fail "version 2 not live in b"
[ "$("$TRAIN" versions --db="$TMP/b" | grep -c implicit_als)" -eq 1 ] || fail "b holds more than version 2"
expect_exit 0 "version 2 is already in $TMP/b, identical: nothing to do" -- \
  "$TRAIN" import-version --from="$TMP/out" --db="$TMP/b"
a_top=$("$TRAIN" recommend --db="$TMP/a" --users=u1 --k=3 | tail -n +2)
b_top=$("$TRAIN" recommend --db="$TMP/b" --users=u1 --k=3 | tail -n +2)
echo "$a_top" | grep -q "^ *1\. i" || fail "no recommendations from a: $a_top"
[ "$a_top" = "$b_top" ] || fail "recommendations differ: $a_top vs $b_top"

# A damaged table file: exit 1, nothing written.
cp -r "$TMP/out" "$TMP/damaged"
sst=$(ls "$TMP"/damaged/shared_checksum/*.sst | head -1)
byte=$(od -An -tx1 -j 200 -N 1 "$sst" | tr -d ' ')
[ "$byte" = "58" ] && new="Y" || new="X"
printf '%s' "$new" | dd of="$sst" bs=1 seek=200 conv=notrunc status=none
expect_exit 1 "fails its checksums" -- "$TRAIN" import-version --from="$TMP/damaged" --db="$TMP/c"
[ -d "$TMP/c/models" ] && fail "a damaged export created a store"

# A store with its own version 2: refused, exit 2.
"$TRAIN" "${TRAIN_FLAGS[@]}" --db="$TMP/d" > /dev/null || fail "training d 1"
"$TRAIN" "${TRAIN_FLAGS[@]}" --db="$TMP/d" --seed=3 > /dev/null || fail "training d 2"
expect_exit 2 "version 2 already exists in $TMP/d/models" -- \
  "$TRAIN" import-version --from="$TMP/out" --db="$TMP/d"

finish "export/import-version"
