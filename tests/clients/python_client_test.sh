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

# TLS: the same server with --tls_cert/--tls_key/--tls_client_ca and
# certificates made here; the client's --tls_ca/--tls_cert/--tls_key.
stop_live_server
certs="$TEST_TMPDIR/certs"
mkdir -p "$certs"
(
  cd "$certs"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca
  for who in server client; do
    openssl req -newkey rsa:2048 -nodes -keyout "$who.key" -out "$who.csr" -subj "/CN=$who"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$who.ext"
    openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -extfile "$who.ext" -out "$who.pem"
  done
) 2>/dev/null
port=$(free_port)
SERVER_ADDR="127.0.0.1:$port"
timeout 300 server/affinity-server --db="$DB" --listen="$SERVER_ADDR" --metrics_listen= \
  --admin_listen= --events=false --tls_cert="$certs/server.pem" --tls_key="$certs/server.key" \
  --tls_client_ca="$certs/ca.pem" >"$TEST_TMPDIR/tls_server.log" 2>&1 &
SERVER_PID=$!
tls_client() {
  client --tls_ca="$certs/ca.pem" --tls_cert="$certs/client.pem" --tls_key="$certs/client.key" "$@"
}
for _ in $(seq 100); do
  out=$(tls_client --user=alice --k=2 2>&1) && break
  sleep 0.3
done
echo "$out"
[ "$(echo "$out" | sed -n 2p | cut -d' ' -f1,2)" = "1 m2" ] ||
  fail "over TLS: alice's first item is not m2 (server log: $(cat "$TEST_TMPDIR/tls_server.log"))"
client --tls_ca="$certs/ca.pem" --user=alice --k=2 >/dev/null 2>&1 &&
  fail "a client without a certificate was answered although --tls_client_ca requires one"
client --user=alice --k=2 >/dev/null 2>&1 && fail "a plaintext client was answered by a TLS server"

echo "python client: 6 passed, 0 failed"
