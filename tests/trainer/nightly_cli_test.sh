#!/usr/bin/env bash
# `affinity-train nightly` as cron or systemd runs it, on the bundled
# MovieLens ratings split by time (night 1: the oldest 80%, night 2: all):
# an unchanged input is skipped with exit 0, a worse candidate on newer data
# is stored as not eligible with exit 3 while the previous version stays
# live, --force publishes it, a bad --gate_metric exits 2 naming the flag,
# and the store refuses to delete the live version (exit 2, with the reason).
set -uo pipefail

TRAIN="$TEST_SRCDIR/affinity/trainer/affinity-train"
DATA="$TEST_SRCDIR/affinity/data/movielens-latest-small"
TMP="$TEST_TMPDIR"
DB="$TMP/db"
source "$TEST_SRCDIR/affinity/tests/testing/cli_checks.sh"

# expect_versions PATTERN: a line of `versions` matches the extended regex.
expect_versions() {
  local out
  out=$("$TRAIN" versions --db="$DB" 2>&1)
  grep -Eq -- "$1" <<<"$out" || fail "no line matching '$1' in versions: $out"
}

# Night 1 ends at the timestamp of the row at 80% (every row with that
# timestamp included, so no second is split between the nights).
tail -n +2 "$DATA/ratings.csv" | tr -d '\r' | sort -t, -k4,4n > "$TMP/all.csv"
rows=$(wc -l < "$TMP/all.csv")
cut_ts=$(sed -n "$((rows * 8 / 10))p" "$TMP/all.csv" | cut -d, -f4)
awk -F, -v t="$cut_ts" '$4 <= t' "$TMP/all.csv" > "$TMP/night1.csv"
night1_rows=$(wc -l < "$TMP/night1.csv")
[ "$night1_rows" -gt $((rows * 3 / 4)) ] && [ "$night1_rows" -lt "$rows" ] \
  || fail "night 1 has $night1_rows of $rows rows"

FLAGS=(--format=movielens --factors=16 --iterations=5 --threads=2 --puresvd=false
       --progress_eval_users=0)

# Night 1: the first version of the store.
expect_exit 0 "nightly: published version 1 (gate passed: first version" -- \
  "$TRAIN" nightly --input="$TMP/night1.csv" --db="$DB" "${FLAGS[@]}"
# The same bytes again, under another name too: nothing to do, exit 0.
expect_exit 0 "nightly: skipped (unchanged input): version 1 " -- \
  "$TRAIN" nightly --input="$TMP/night1.csv" --db="$DB" "${FLAGS[@]}"
cp "$TMP/night1.csv" "$TMP/night1-copy.csv"
expect_exit 0 "skipped (unchanged input): version 1 " -- \
  "$TRAIN" nightly --input="$TMP/night1-copy.csv" --db="$DB" "${FLAGS[@]}"
# Bad nightly flags: exit 2 naming the flag, nothing trained or published.
expect_exit 2 "--gate_metric: \"auc\" is not a metric" -- \
  "$TRAIN" nightly --input="$TMP/all.csv" --db="$DB" "${FLAGS[@]}" --gate_metric=auc
expect_exit 2 "--gate_tolerance" -- \
  "$TRAIN" nightly --input="$TMP/all.csv" --db="$DB" "${FLAGS[@]}" --gate_tolerance=-1
expect_exit 2 "--keep_versions" -- \
  "$TRAIN" nightly --input="$TMP/all.csv" --db="$DB" "${FLAGS[@]}" --keep_versions=0
# A --db that cannot be written: refused before the input is even hashed.
out=$("$TRAIN" nightly --input="$TMP/all.csv" --db="$TMP/all.csv/db" "${FLAGS[@]}" 2>&1); code=$?
[ "$code" -eq 2 ] || fail "unwritable --db: exit $code, want 2: $out"
grep -q -- "--db: cannot write a model store at $TMP/all.csv/db: $TMP/all.csv is not a directory" \
  <<<"$out" || fail "unwritable --db not named: $out"
grep -q "fingerprint\|ingest" <<<"$out" && fail "nightly worked before the --db check: $out"
expect_versions "^live 1 "
if grep -Eq "^ *(live)? *2 " <<<"$("$TRAIN" versions --db="$DB")"; then
  fail "a refused run published version 2"
fi

# Night 2, with a deliberately poor recipe: compared on the interactions newer
# than version 1's data, refused (exit 3), stored as version 2, not eligible.
WORSE=(--factors=2 --iterations=1)
expect_exit 3 "comparison: interactions newer than live version 1's data" -- \
  "$TRAIN" nightly --input="$TMP/all.csv" --db="$DB" "${FLAGS[@]}" "${WORSE[@]}"
expect_versions "^live 1 "
expect_versions "^ +2 .* failed by 0\.[0-9]+ +no "
expect_exit 2 "version 2 may not take traffic: the nightly gate refused it" -- \
  "$TRAIN" rollback --db="$DB" --version=2
# The refusal is recorded: the rerun is skipped and still names it.
expect_exit 0 "skipped (unchanged input): version 2 (gate failed by " -- \
  "$TRAIN" nightly --input="$TMP/all.csv" --db="$DB" "${FLAGS[@]}" "${WORSE[@]}"

# --force publishes the same candidate as version 3, recorded as forced.
expect_exit 0 "gate overridden by --force (it failed by" -- \
  "$TRAIN" nightly --input="$TMP/all.csv" --db="$DB" "${FLAGS[@]}" "${WORSE[@]}" --force
expect_versions "^live 3 .* forced +yes "

# The live version cannot be deleted; the refused one can.
expect_exit 2 "cannot delete version 3: it is the live version" -- \
  "$TRAIN" delete --db="$DB" --version=3
expect_versions "^live 3 "
expect_exit 0 "deleted version 2" -- "$TRAIN" delete --db="$DB" --version=2
# A version pinned by rollback cannot be deleted either, and unpin returns
# to the newest eligible one.
expect_exit 0 "pinned to 1" -- "$TRAIN" rollback --db="$DB" --version=1
expect_versions "^live 1 .* pinned "
expect_exit 2 "cannot delete version 1: it is pinned" -- "$TRAIN" delete --db="$DB" --version=1
expect_exit 0 "now 3" -- "$TRAIN" unpin --db="$DB"

finish "nightly CLI"
