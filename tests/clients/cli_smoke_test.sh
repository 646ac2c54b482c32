#!/usr/bin/env bash
# Runs the affinity CLI against a live affinity-server over a hand-made
# model: table and JSON output, similar items, argument and RPC errors.
set -euo pipefail
source tests/clients/live_server.sh

fail() { echo "FAIL: $*" >&2; exit 1; }
# Generous RPC deadline: the machine may be busy with other tests.
cli() { timeout 60 tools/affinity --server="$SERVER_ADDR" --timeout_ms=20000 "$@"; }

# Runs the CLI expecting failure; sets code and err.
cli_fails() {
  set +e
  err=$(cli "$@" 2>&1 >/dev/null)
  code=$?
  set -e
  echo "$err"
}

# Usage errors need no server.
SERVER_ADDR=127.0.0.1:1
cli_fails recommend --user=alice --recent=m1:1,m2
[ "$code" -eq 2 ] || fail "bad --recent: exit $code, expected 2"
echo "$err" | grep -q 'entry 2 "m2"' || fail "bad --recent: entry not named"
cli_fails similar
[ "$code" -eq 2 ] || fail "similar without --item: exit $code"
cli_fails frobnicate
[ "$code" -eq 2 ] || fail "unknown command: exit $code"
cli_fails similar --item=m4 --filters_json='[{"attribute":"price","max":5},{"max":50}]'
[ "$code" -eq 2 ] || fail "bad --filters_json: exit $code, expected 2"
echo "$err" | grep -q 'entry 2 {"max":50}' || fail "bad --filters_json: entry not named"
cli_fails recommend --user=alice --timeout_ms=500
[ "$code" -eq 1 ] || fail "no server: exit $code, expected 1"
echo "$err" | grep -q "^error: UNAVAILABLE: " || fail "no server: UNAVAILABLE not printed"

start_live_server

out=$(cli recommend --user=alice --k=2)
echo "$out"
echo "$out" | head -1 | grep -q "model_version: 1 " || fail "model version not shown"
grep -Eq '^ +1  m2 ' <<<"$out" || fail "rank 1 is not m2"
grep -Eq '^ +2  m3 ' <<<"$out" || fail "rank 2 is not m3"
[ "$(echo "$out" | grep -Ec '^ +[0-9]+  m')" -eq 2 ] || fail "expected exactly 2 rows"

out=$(cli recommend --user=alice --k=3 --exclude=m2 --json)
echo "$out"
"$PYTHON" - "$out" <<'PY' || fail "JSON output"
import json, sys
r = json.loads(sys.argv[1])
ids = [i["itemId"] for i in r["items"]]
assert r["modelVersion"] == "1", r
assert len(ids) == 3 and ids[0] == "m3", ids
assert "m2" not in ids and "m1" not in ids, ids
PY

out=$(cli recommend --user=alice --k=2 --db="$DB")
echo "$out"
grep -Eq '^ +1  m2 +[0-9.]+ +Movie 2$' <<<"$out" || fail "--db: title of m2 not shown"

out=$(cli recommend --user=alice --k=2 --db="$TEST_TMPDIR/no-store" 2>&1)
echo "$out"
grep -Eq '^ +1  m2 +[0-9.]+$' <<<"$out" || fail "missing catalog: ids not printed alone"
[ ! -e "$TEST_TMPDIR/no-store" ] || fail "missing catalog: the CLI created a store"

out=$(cli recommend --user=alice --k=2 --explain --json)
"$PYTHON" - "$out" <<'PY' || fail "--explain: explanations missing"
import json, sys
items = json.loads(sys.argv[1])["items"]
assert len(items) == 2 and all(i["explanation"] for i in items), items
PY

out=$(cli recommend --user=unknown-user --k=2)
echo "$out"
echo "$out" | head -1 | grep -q "fallback: yes" || fail "unknown user: fallback not reported"
[ "$(echo "$out" | grep -Ec '^ +[0-9]+  m[0-9] +[0-9.]+  \*$')" -eq 2 ] \
  || fail "unknown user: fallback rows not marked"

out=$(cli recommend --recent=m4:3 --k=1)
echo "$out"
grep -Eq '^ +1  m' <<<"$out" || fail "anonymous session with --recent got no item"

out=$(cli similar --item=m4 --k=1)
echo "$out"
grep -Eq '^ +1  m5 ' <<<"$out" || fail "most similar to m4 is not m5"

# Request-time filters reach the server in both commands.
out=$(cli recommend --user=alice --k=2 --filters_json='[{"attribute":"item_id","noneOf":["m2"]}]')
echo "$out"
grep -Eq '^ +1  m3 ' <<<"$out" || fail "--filters_json: recommend rank 1 is not m3"
! grep -Eq '^ +[0-9]+  m2 ' <<<"$out" || fail "--filters_json: recommend returned m2"
out=$(cli similar --item=m4 --k=1 --filters_json='{"attribute":"item_id","noneOf":["m5"]}')
echo "$out"
grep -Eq '^ +1  m' <<<"$out" || fail "--filters_json: similar got no item"
! grep -Eq '^ +[0-9]+  m5 ' <<<"$out" || fail "--filters_json: similar returned m5"
cli_fails similar --item=m4 --filters_json='[{"attribute":"colour","anyOf":["red"]}]'
[ "$code" -eq 2 ] || fail "unknown filter attribute: exit $code, expected 2"
echo "$err" | grep -q "^error: INVALID_ARGUMENT: " || fail "unknown filter attribute: INVALID_ARGUMENT not printed"

cli_fails similar --item=no-such-item
[ "$code" -eq 2 ] || fail "unknown item: exit $code, expected 2"
echo "$err" | grep -q "^error: NOT_FOUND: " || fail "unknown item: NOT_FOUND not printed"

cli_fails recommend --user=alice --k=100000
[ "$code" -eq 2 ] || fail "k too large: exit $code, expected 2"
echo "$err" | grep -q "^error: INVALID_ARGUMENT: " || fail "k too large: INVALID_ARGUMENT not printed"

# An answer's request_id reports an outcome; the same report again is a
# duplicate; a made-up id is INVALID_ARGUMENT.
out=$(cli recommend --user=alice --k=2)
request_id=$(head -1 <<<"$out" | sed -n 's/.*request_id: \([^ ]*\).*/\1/p')
grep -q '^r1\.1\.control\.b\.' <<<"$request_id" || fail "no request_id in: $out"
at=$(( $(date +%s) * 1000000 ))
out=$(cli outcome --request_id="$request_id" --item=m2 --event=click --user=alice --at_unix_micros=$at)
grep -q "stored 1 outcome" <<<"$out" || fail "outcome not stored: $out"
out=$(cli outcome --request_id="$request_id" --item=m2 --event=click --user=alice --at_unix_micros=$at)
grep -q "stored 0 outcome(s), 1 already stored" <<<"$out" || fail "duplicate outcome: $out"
cli_fails outcome --request_id=nonsense --item=m2
[ "$code" -eq 2 ] || fail "bad request_id: exit $code, expected 2"
grep -q "request_id" <<<"$err" || fail "bad request_id: field not named: $err"
out=$(cli recommend --user=alice --k=2 --arm=control)
grep -q 'request_id: r1\.1\.control\.f\.' <<<"$out" || fail "forced arm not marked: $out"
cli_fails recommend --user=alice --k=2 --arm=treatment
[ "$code" -eq 2 ] || fail "unknown arm: exit $code, expected 2"

echo "cli smoke: 24 passed, 0 failed"
