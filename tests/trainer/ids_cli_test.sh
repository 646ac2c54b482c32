#!/usr/bin/env bash
# `affinity-train ids`: a version's user or item ids, one per line on
# stdout, the summary on stderr; --limit, --version, and the usage errors.
# `recommend --users_file` reads what `ids --users` writes, ids with commas
# included; the comma form --users=a,b keeps working.
set -uo pipefail

TRAIN="$TEST_SRCDIR/affinity/trainer/affinity-train"
TMP="$TEST_TMPDIR"
DB="$TMP/db"
source "$TEST_SRCDIR/affinity/tests/testing/cli_checks.sh"

# Version 1: users u1..u3 and "Smith, J." (quoted: its id holds a comma).
printf 'user,item,weight\nu2,i1,1\nu1,i2,1\nu3,i1,2\n"Smith, J.",i3,1\nu1,i3,1\n' > "$TMP/v1.csv"
# Version 2: two users only.
printf 'user,item\nz9,i7\nz8,i8\n' > "$TMP/v2.csv"
TRAIN_FLAGS=(--db="$DB" --factors=2 --iterations=1 --holdout=0)
expect_exit 0 "published model version 1" -- "$TRAIN" --input="$TMP/v1.csv" "${TRAIN_FLAGS[@]}"
expect_exit 0 "published model version 2" -- "$TRAIN" --input="$TMP/v2.csv" "${TRAIN_FLAGS[@]}"

# The live version (2) by default; users in byte order of their ids.
out=$("$TRAIN" ids --db="$DB" --users 2>"$TMP/err") || fail "ids --users: exit $?"
[ "$out" = $'z8\nz9' ] || fail "users of the live version: '$out'"
grep -q "^wrote 2 user ids of version 2 (live)$" "$TMP/err" || fail "summary: $(cat "$TMP/err")"

# --version picks another; the ids come verbatim, a comma included.
out=$("$TRAIN" ids --db="$DB" --users --version=1 2>/dev/null)
[ "$out" = $'Smith, J.\nu1\nu2\nu3' ] || fail "users of version 1: '$out'"
out=$("$TRAIN" ids --db="$DB" --items --version=1 2>/dev/null)
[ "$(sort <<<"$out" | tr '\n' ' ')" = "i1 i2 i3 " ] || fail "items of version 1: '$out'"
# --users may come before other flags, --limit caps the count.
out=$("$TRAIN" ids --users --db="$DB" --version=1 --limit=2 2>/dev/null)
[ "$out" = $'Smith, J.\nu1' ] || fail "--limit=2: '$out'"
out=$("$TRAIN" ids --items --db="$DB" --limit=1 2>/dev/null)
[ "$(wc -l <<<"$out")" -eq 1 ] || fail "--items --limit=1: '$out'"

# recommend: every user of the file, the one whose id holds a comma too.
"$TRAIN" ids --db="$DB" --users --version=1 >"$TMP/users.txt" 2>/dev/null
expect_exit 0 "pinned to 1" -- "$TRAIN" rollback --db="$DB" --version=1
out=$("$TRAIN" recommend --db="$DB" --users_file="$TMP/users.txt" --k=1 2>&1) || fail "recommend --users_file: $out"
for user in "Smith, J." u1 u2 u3; do
  grep -q "^top 1 for user $user (" <<<"$out" || fail "recommend --users_file: no answer for '$user': $out"
done
grep -q "not in this model version" <<<"$out" && fail "recommend --users_file: unknown user: $out"
# The comma form splits at commas: "Smith, J." is two unknown users there.
out=$("$TRAIN" recommend --db="$DB" --users=u1,u2 --k=1 2>&1) || fail "recommend --users=u1,u2: $out"
grep -q "^top 1 for user u1 (" <<<"$out" && grep -q "^top 1 for user u2 (" <<<"$out" || fail "recommend --users=u1,u2: $out"
printf '\n\n' > "$TMP/empty.txt"
expect_exit 2 "empty.txt: no ids, expected one id per line" -- \
  "$TRAIN" recommend --db="$DB" --users_file="$TMP/empty.txt"
expect_exit 2 "missing.txt: cannot open" -- "$TRAIN" recommend --db="$DB" --users_file="$TMP/missing.txt"
expect_exit 2 "expected --users or --users_file, not both" -- \
  "$TRAIN" recommend --db="$DB" --users=u1 --users_file="$TMP/users.txt"

expect_exit 2 "ids: expected one of --users and --items" -- "$TRAIN" ids --db="$DB"
expect_exit 2 "ids: expected one of --users and --items" -- "$TRAIN" ids --db="$DB" --users --items
expect_exit 2 "ids takes --users alone" -- "$TRAIN" ids --db="$DB" --users=u1,u2
expect_exit 2 "--limit: expected a count >= 0" -- "$TRAIN" ids --db="$DB" --items --limit=-1
expect_exit 2 "model version 7 is not published" -- "$TRAIN" ids --db="$DB" --items --version=7
expect_exit 1 "no model store at $TMP/none" -- "$TRAIN" ids --db="$TMP/none" --users
[ -e "$TMP/none" ] && fail "ids created a store"

finish "affinity-train ids"
