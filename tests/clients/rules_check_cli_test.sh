#!/usr/bin/env bash
# Runs the built `affinity rules check` as an operator would before
# deploying a rules file: a good file (alone and against a catalog loaded
# with affinity-train catalog), a syntax error with the server's
# FILE:LINE:COL message, a filter on an attribute the catalog lacks, and
# the usage errors; checks exit codes and streams.
set -uo pipefail
source tests/testing/cli_checks.sh

TMP="${TEST_TMPDIR:-$(mktemp -d)}"
AFFINITY=tools/affinity
TRAIN=trainer/affinity-train
DB="$TMP/db"

cat > "$TMP/items.csv" <<'CSV'
item_id,title,categories,in_stock,created_at
1,Toy Story,Animation|Comedy,yes,1995-11-22
2,Heat,Action|Crime,yes,1995-12-15
3,Alien,Horror|Sci-Fi,no,1979-05-25
CSV
expect_exit 0 "3 added" -- "$TRAIN" catalog --db="$DB" --input="$TMP/items.csv"

cat > "$TMP/good.textproto" <<'RULES'
rule_sets {
  name: "home"
  filters { attribute: "in_stock" equals: true }
  filters { attribute: "category" none_of: "Horror" }
  pins { item_id: "1" slot: 1 }
}
RULES
# stdout only: the verdict; stderr empty.
out=$("$AFFINITY" rules check "$TMP/good.textproto" 2>"$TMP/err"); code=$?
[ "$code" -eq 0 ] || fail "good file: exit $code, want 0"
[ "$out" = "$TMP/good.textproto: valid: 1 rule set (home), 0 blocklisted items" ] || fail "good file: stdout '$out'"
[ -s "$TMP/err" ] && fail "good file: stderr $(cat "$TMP/err")"
expect_exit 0 "valid: 1 rule set (home), 0 blocklisted items; checked against 3 catalog items, 0 warnings" -- \
  "$AFFINITY" rules check "$TMP/good.textproto" --db="$DB"

# A syntax error: the server's message, exit 1, on stderr.
printf 'rule_sets {\n  name: "home"\n  filters { attribute: "in_stock" equals: maybe }\n}\n' > "$TMP/syntax.textproto"
out=$("$AFFINITY" rules check "$TMP/syntax.textproto" 2>"$TMP/err"); code=$?
[ "$code" -eq 1 ] || fail "syntax error: exit $code, want 1"
[ -z "$out" ] || fail "syntax error: stdout '$out'"
grep -q "^$TMP/syntax.textproto:3:49: Invalid value for boolean field \"equals\". Value: \"maybe\"" "$TMP/err" \
  || fail "syntax error: stderr $(cat "$TMP/err")"
grep -qx "$TMP/syntax.textproto: invalid" "$TMP/err" || fail "syntax error: no verdict on stderr"
# A semantic error, as the server words it.
printf 'rule_sets {\n  name: "x"\n  filters { attribute: "colour" any_of: "red" }\n}\n' > "$TMP/unknown.textproto"
expect_exit 1 "unknown.textproto:3:13: rule_sets\[0\].filters\[0\].attribute: unknown attribute \"colour\"" -- \
  "$AFFINITY" rules check "$TMP/unknown.textproto"

# An attribute no catalog item has: valid alone, invalid against the catalog.
cat > "$TMP/brand.textproto" <<'RULES'
rule_sets {
  name: "acme"
  filters { attribute: "brand" any_of: "acme" }
  filters { attribute: "category" none_of: "Horor" }
}
RULES
expect_exit 0 "valid: 1 rule set (acme)" -- "$AFFINITY" rules check "$TMP/brand.textproto"
out=$("$AFFINITY" rules check "$TMP/brand.textproto" --db="$DB" 2>"$TMP/err"); code=$?
[ "$code" -eq 1 ] || fail "brand: exit $code, want 1"
grep -q "^$TMP/brand.textproto:3:13: rule_sets\[0\].filters\[0\].attribute: no item of the catalog (3 items) has a value for \"brand\", so the filter keeps none of them" "$TMP/err" \
  || fail "brand: stderr $(cat "$TMP/err")"
grep -q "^$TMP/brand.textproto:4:35: warning: rule_sets\[0\].filters\[1\].none_of\[0\]: no item of the catalog has category \"Horor\"" "$TMP/err" \
  || fail "brand: no warning for Horor: $(cat "$TMP/err")"
grep -qx "$TMP/brand.textproto: invalid against the catalog under $DB (1 error, 1 warning)" "$TMP/err" \
  || fail "brand: verdict $(cat "$TMP/err")"

# Cannot check: exit 2, nothing created.
expect_exit 2 "error: $TMP/none.textproto: cannot read the rules file" -- "$AFFINITY" rules check "$TMP/none.textproto"
expect_exit 2 "error: --db: no catalog at $TMP/nodb/catalog" -- "$AFFINITY" rules check "$TMP/good.textproto" --db="$TMP/nodb"
[ -e "$TMP/nodb" ] && fail "rules check created $TMP/nodb"
expect_exit 2 "expected: affinity rules check FILE" -- "$AFFINITY" rules check
expect_exit 2 "expected: affinity rules check FILE" -- "$AFFINITY" rules lint "$TMP/good.textproto"

finish "affinity rules check"
