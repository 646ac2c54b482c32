#!/usr/bin/env bash
# `affinity admin upsert` against a live affinity-server: the help example
# ({"itemId":"1","inStock":false}) changes stock only, a JSON Lines file
# writes each line's own keys in one call (a new item starts in stock),
# --replace_items replaces whole items, and bad input is a usage error naming the line. What is stored is
# read back through `affinity recommend --db` (titles) and filters.
set -euo pipefail
source tests/clients/live_server.sh

fail() { echo "FAIL: $*" >&2; exit 1; }
cli() {
  timeout 60 tools/affinity --server="$SERVER_ADDR" --admin_server="$ADMIN_ADDR" \
    --timeout_ms=20000 "$@"
}
cli_fails() {
  set +e
  err=$(cli "$@" 2>&1 >/dev/null)
  code=$?
  set -e
  echo "$err"
}
# alice's answer (titles from the catalog) passing the filters $1.
alice() { cli recommend --user=alice --k=2 --db="$DB" --filters_json="$1"; }
in_stock='[{"attribute":"in_stock","equals":true}]'

start_live_server

# make_test_model's items are all out of stock and titled "Movie K".
out=$(cli admin upsert --item_json='{"itemId":"m2","inStock":true}')
echo "$out"
[ "$out" = "upserted 1 item(s): 0 added, 1 updated, 0 unchanged" ] || fail "stock only: $out"
out=$(alice "$in_stock")
echo "$out"
grep -Eq '^ +1  m2 +[0-9.]+ +Movie 2$' <<<"$out" || fail "stock only: m2 lost its title"
[ "$(grep -Ec '^ +[0-9]+  m' <<<"$out")" -eq 1 ] || fail "stock only: other items came in stock"

# One line per item, each with its own keys, in one call.
items="$TEST_TMPDIR/items.jsonl"
printf '%s\n' '{"itemId":"m3","price":7}' '{"item_id":"m2","in_stock":false}' \
  '{"itemId":"new-1","title":"New"}' >"$items"
out=$(cli admin upsert --items_file="$items")
echo "$out"
[ "$out" = "upserted 3 item(s): 1 added, 2 updated, 0 unchanged" ] || fail "items file: $out"
out=$(alice '[{"attribute":"price","min":7,"max":7}]')
echo "$out"
grep -Eq '^ +1  m3 +[0-9.]+ +Movie 3$' <<<"$out" || fail "items file: m3 has no price 7 or lost its title"
out=$(alice "$in_stock")
echo "$out"
! grep -Eq '^ +[0-9]+  m' <<<"$out" || fail "items file: m2 is still in stock"
# new-1 (in the catalog, not in the model) started in stock: the fallback adds it.
grep -Eq '^ +1  new-1 +[0-9.]+ +\* +New$' <<<"$out" || fail "items file: new-1 is not in stock"
out=$(cli admin upsert --items_file="$items")
[ "$out" = "upserted 3 item(s): 0 added, 0 updated, 3 unchanged" ] || fail "same file again: $out"

# The help example itself: stock only, the price stays.
out=$(cli admin upsert --item_json='{"itemId":"m3","inStock":false}')
[ "$out" = "upserted 1 item(s): 0 added, 0 updated, 1 unchanged" ] || fail "help example: $out"
cli admin upsert --item_json='{"itemId":"m3","inStock":true}' >/dev/null
out=$(alice '[{"attribute":"in_stock","equals":true},{"attribute":"price","max":7}]')
echo "$out"
grep -Eq '^ +1  m3 +[0-9.]+ +Movie 3$' <<<"$out" || fail "help example: m3 lost its price or title"

# --replace_items: the whole item, as the line gives it (no title, no price).
out=$(cli admin upsert --replace_items --item_json='{"itemId":"m3","inStock":true}')
[ "$out" = "upserted 1 item(s): 0 added, 1 updated, 0 unchanged" ] || fail "--replace_items: $out"
out=$(alice "$in_stock")
echo "$out"
grep -Eq '^ +1  m3 +[0-9.]+ *$' <<<"$out" || fail "--replace_items: m3 kept its title"
out=$(alice '[{"attribute":"price","max":100}]')
! grep -Eq '^ +[0-9]+  m' <<<"$out" || fail "--replace_items: m3 kept its price"

# Bad input: usage errors naming the line; nothing is sent.
printf '%s\n' '{"itemId":"m2","inStock":true}' '{"itemId":"m2","stock":false}' >"$items"
cli_fails admin upsert --items_file="$items"
[ "$code" -eq 2 ] || fail "unknown key: exit $code, expected 2"
grep -q "^error: $items:2: " <<<"$err" || fail "unknown key: line not named"
grep -q "stock" <<<"$err" || fail "unknown key: key not named"
out=$(alice "$in_stock")
! grep -Eq '^ +[0-9]+  m2 ' <<<"$out" || fail "a refused file wrote its first line"
cli_fails admin upsert --item_json='{"itemId":"m2"}'
[ "$code" -eq 2 ] || fail "no field: exit $code, expected 2"
grep -q -- "--item_json:1: no field to update besides itemId" <<<"$err" || fail "no field: $err"

echo "cli admin upsert: passed"
