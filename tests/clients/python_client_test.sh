#!/usr/bin/env bash
# Generates the Python stubs, runs tools/clients/python/recommend.py against a
# live affinity-server over a hand-made model and checks the items it names.
set -euo pipefail
source tests/clients/live_server.sh

fail() { echo "FAIL: $*" >&2; exit 1; }

stubs="$TEST_TMPDIR/stubs"
timeout 60 tools/clients/python/generate_stubs.sh "$stubs" proto
start_live_server

client() {
  timeout 60 "$PYTHON" tools/clients/python/recommend.py \
    --server="$SERVER_ADDR" --stubs_dir="$stubs" --timeout_s=20 "$@"
}

out=$(client --user=alice --k=2)
echo "$out"
[ "$(echo "$out" | sed -n 2p | cut -d' ' -f1,2)" = "1 m2" ] || fail "alice's first item is not m2"
[ "$(echo "$out" | sed -n 3p | cut -d' ' -f1,2)" = "2 m3" ] || fail "alice's second item is not m3"
grep -q " m1 " <<<"$out" && fail "alice was recommended m1, which she has seen"
echo "$out" | head -1 | grep -q "model_version=1 " || fail "model version 1 not reported"

out=$(client --item=m4 --k=1)
echo "$out"
[ "$(echo "$out" | sed -n 2p | cut -d' ' -f1,2)" = "1 m5" ] || fail "most similar to m4 is not m5"

set +e
err=$(client --item=no-such-item 2>&1 >/dev/null)
code=$?
set -e
echo "$err"
[ "$code" -eq 2 ] || fail "unknown item: exit code $code, expected 2"
echo "$err" | grep -q "^error: NOT_FOUND: " || fail "unknown item: no NOT_FOUND error printed"

echo "python client: 3 passed, 0 failed"
