#!/usr/bin/env bash
# What affinity-train shows of the data as it passes through, on a small
# file written here: the terminal lines before training starts, and the
# same figures in the HTML report and the metrics JSON (run date, data
# quality per skip reason, first rows, distributions, top users and
# items); and the warning when the model does not beat most-popular.
set -uo pipefail

TRAIN="$TEST_SRCDIR/affinity/trainer/affinity-train"
TMP="$TEST_TMPDIR"
source "$TEST_SRCDIR/affinity/tests/testing/cli_checks.sh"

# u1: a (1 + 2 merged), b, c; u2: a, b; u3: a, c; u4: d; u5: a; three bad rows.
cat > "$TMP/small.csv" <<'CSV'
user,item,weight,timestamp
u1,a,1,100
u1,b,2,150
u1,c,3,120
u2,a,4,200
u2,b,1,210
u3,a,5,50
u3,c,2,60
u1,a,2,300
u4,d,1,90
u5,a,1,70
u6,a,x,80
u6,b,-1,80
u7,c
CSV

out=$("$TRAIN" --input="$TMP/small.csv" --no_publish --holdout=0 --factors=2 --iterations=1 \
  --on_error=skip --report="$TMP/small.html" --metrics_json="$TMP/small.json" 2>&1)
code=$?
[ "$code" -eq 0 ] || fail "exit $code: $out"

expect_line() {  # the exact line is in the output
  grep -qxF -- "$1" <<<"$out" || fail "no line '$1' in: $out"
}
expect_line "skipped 3 malformed rows (--on_error=skip): 1 missing field, 1 negative weight, 1 weight not a number; first ones:"
expect_line "first rows as parsed (line: user, item, weight, timestamp):"
expect_line "  line 2: u1, a, 1, 100"
expect_line "  line 6: u2, b, 1, 210"
expect_line "weights as trained (duplicates summed, --weight=raw): min 1, p25 1, median 2, p75 3, p90 5, p99 5, max 5, mean 2.444"
expect_line "interactions per user: min 1, p25 1, median 2, p75 2, p90 3, p99 3, max 3, mean 1.8"
expect_line "interactions per item: min 1, p25 1, median 2, p75 2, p90 4, p99 4, max 4, mean 2.25"
expect_line "most active users (interactions): u1 (3), u2 (2), u3 (2), u4 (1), u5 (1)"
expect_line "most popular items (interactions): a (4), b (2), c (2), d (1)"
expect_line "timestamps: 50 .. 300"
grep -q "^read .*small.csv: 13 rows, 5 users, 4 items, 9 interactions (1 duplicates merged)" \
  <<<"$out" || fail "read line: $out"
# Before training starts.
preview=$(grep -n "^most popular items" <<<"$out" | cut -d: -f1)
training=$(grep -n "^training implicit_als_cg" <<<"$out" | cut -d: -f1)
[ -n "$preview" ] && [ -n "$training" ] && [ "$preview" -lt "$training" ] ||
  fail "the data preview does not come before training: $out"

html=$(cat "$TMP/small.html")
expect_html() {
  grep -qF -- "$1" <<<"$html" || fail "report lacks '$1'"
}
grep -Eq "run started [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z \(UTC\)" <<<"$html" ||
  fail "report lacks the run's date"
expect_html "<tr><th>rows read</th><td>13</td></tr>"
expect_html "weights summed)</th><td>1</td></tr>"
expect_html "(--on_error=skip)</th><td>3</td></tr>"
expect_html "&nbsp;&nbsp;negative weight</th><td>1</td></tr>"
expect_html "&nbsp;&nbsp;weight not a number</th><td>1</td></tr>"
expect_html "&nbsp;&nbsp;missing field</th><td>1</td></tr>"
expect_html "with a weight)</th><td>9</td></tr>"
expect_html "<tr><td>2</td><td>u1</td><td>a</td><td>1</td><td>100</td></tr>"
expect_html "<tr><th>interactions per item (distinct users)</th><td>4</td><td>1</td><td>1</td><td>2</td><td>2</td><td>4</td><td>4</td><td>4</td><td>2.25</td></tr>"
expect_html "<title>4-7 items: 1</title>"
expect_html "<tr><td>1</td><td>u1</td><td>3</td><td>33.33%</td></tr>"
expect_html "<tr><td>1</td><td>a</td><td>4</td><td>44.44%</td></tr>"
expect_html "Timestamps from 50 to 300."

json=$(cat "$TMP/small.json")
grep -Eq '"started_at": "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"' <<<"$json" || fail "json started_at: $json"
grep -q '"negative weight": 1' <<<"$json" || fail "json skip reasons: $json"
grep -q '"duplicates_merged": 1' <<<"$json" || fail "json duplicates_merged: $json"
grep -q '"top_items"' <<<"$json" || fail "json lacks the data profile: $json"

# Every user has every item: with half of each held out, the only items
# left to rank are the held-out ones, so any model ties with most-popular,
# and a tie does not beat it.
: > "$TMP/complete.csv"
for u in 1 2 3 4 5 6; do for i in a b c d; do echo "u$u,$i" >> "$TMP/complete.csv"; done; done
out=$("$TRAIN" --input="$TMP/complete.csv" --no_publish --holdout=0.5 --factors=2 --iterations=1 \
  --report="$TMP/complete.html" 2>&1)
grep -q "^warning: the model does not beat the most-popular baseline on ndcg@10: 1.0000 vs 1.0000" \
  <<<"$out" || fail "no warning line: $out"
grep -q 'class="warning" role="alert">Warning: the model does not beat the most-popular baseline on ndcg@10' \
  "$TMP/complete.html" || fail "no warning banner in the report"
grep -q 'class="warning"' "$TMP/small.html" && fail "a run without evaluation has a banner"

finish "data preview CLI"
