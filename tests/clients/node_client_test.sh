#!/usr/bin/env bash
# Installs clients/node's dependencies with `npm ci` (package-lock.json) in a
# temporary copy of the folder, then runs its recommend.js against a live
# affinity-server: Recommend and SimilarItems, and a NOT_FOUND. Needs the
# npm registry: without it the test fails and says so.
set -euo pipefail
source tests/clients/live_server.sh

fail() { echo "FAIL: $*" >&2; exit 1; }

command -v node >/dev/null || fail "node is not installed (tools/install_deps.sh installs nodejs)"
command -v npm >/dev/null || fail "npm is not installed (tools/install_deps.sh installs npm)"

src="$TEST_TMPDIR/src"
mkdir -p "$src/clients"
cp -rL clients/node "$src/clients/node"
cp -rL proto "$src/proto"
export HOME="$TEST_TMPDIR" npm_config_cache="$TEST_TMPDIR/npm-cache" npm_config_update_notifier=false
if ! (cd "$src/clients/node" && timeout 240 npm ci --no-audit --no-fund --loglevel=error); then
  fail "npm ci failed in a copy of clients/node: this test needs the npm registry" \
    "($(npm config get registry)) to install @grpc/grpc-js and @grpc/proto-loader"
fi

start_live_server

client() {
  timeout 60 node "$src/clients/node/recommend.js" --server="$SERVER_ADDR" --timeout_ms=20000 "$@"
}

out=$(client --user=alice --k=2)
echo "$out"
[ "$(echo "$out" | head -1)" = "model_version=1 arm=control fallback=False" ] ||
  fail "Recommend: unexpected first line"
[ "$(echo "$out" | sed -n 2p | cut -d' ' -f1,2)" = "1 m2" ] || fail "alice's first item is not m2"
[ "$(echo "$out" | sed -n 3p | cut -d' ' -f1,2)" = "2 m3" ] || fail "alice's second item is not m3"

out=$(client --user=bob --k=1 --recent=m5:1)
echo "$out"
[ "$(echo "$out" | sed -n 2p | cut -d' ' -f1)" = "1" ] || fail "bob with recent m5: no item"
grep -Eq " m[45] " <<<"$out" && fail "bob was recommended his seen item m4 or his recent item m5"

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

echo "node client: passed"
