#!/usr/bin/env bash
# Installs clients/python into a fresh venv the way its README says (pip,
# offline: --no-index --no-build-isolation, Debian's setuptools, grpcio and
# protobuf through --system-site-packages), checks that the build wrote
# nothing into the source tree, then runs the package's affinity-recommend
# command and python_client_api_test.py against a live affinity-server:
# plaintext first, then TLS with client certificates and an admin token.
set -euo pipefail
source tests/clients/live_server.sh
source tests/clients/python_package.sh

fail() { echo "FAIL: $*" >&2; exit 1; }

venv="$TEST_TMPDIR/venv"
install_python_client "$venv"
[ -x "$venv/bin/affinity-recommend" ] || fail "no affinity-recommend command installed"
# The stubs come from the build, not from the source tree.
"$venv/bin/python" -c 'import affinity.v1.admin_pb2_grpc, affinity.v1.recommender_pb2_grpc' ||
  fail "the generated affinity.v1 modules are not installed"

start_live_server

client() {
  timeout 60 "$venv/bin/affinity-recommend" --server="$SERVER_ADDR" --timeout_s=20 "$@"
}
# AFFINITY_CERTS and AFFINITY_ADMIN_TOKEN (exported) switch it to TLS.
api_test() {
  AFFINITY_SERVER="$SERVER_ADDR" AFFINITY_ADMIN="$ADMIN_ADDR" \
    AFFINITY_FREE_ADDR="127.0.0.1:$(free_port)" timeout 120 "$venv/bin/python" \
    tests/clients/python_client_api_test.py || fail "python_client_api_test.py, $*"
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

out=$(client --user=bob --k=1 --recent=m5:1 --filters_json='[{"attribute":"item_id","noneOf":["m1","m2","m3"]}]')
echo "$out"
[ "$(echo "$out" | sed -n 2p | cut -d' ' -f1,2)" = "1 m6" ] || fail "bob's filtered item is not m6"

set +e
err=$(client --item=no-such-item 2>&1 >/dev/null)
code=$?
set -e
echo "$err"
[ "$code" -eq 2 ] || fail "unknown item: exit code $code, expected 2"
echo "$err" | grep -q "^error: NOT_FOUND: " || fail "unknown item: no NOT_FOUND error printed"

set +e
err=$(client --user=alice --tls_cert=c.pem 2>&1 >/dev/null)
code=$?
set -e
echo "$err"
[ "$code" -eq 2 ] || fail "--tls_cert without --tls_key: exit code $code, expected 2"
echo "$err" | grep -q "given without tls_key" || fail "--tls_cert without --tls_key: no message"

api_test plaintext

# TLS: the same store served with --tls_cert/--tls_key/--tls_client_ca and an
# admin token, with certificates and token made here.
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
token="token-$RANDOM$RANDOM"
printf '%s\n' "$token" >"$certs/admin_token"
chmod 600 "$certs/admin_token"
SERVER_ADDR="127.0.0.1:$(free_port)"
ADMIN_ADDR="127.0.0.1:$(free_port)"
timeout 300 server/affinity-server --db="$DB" --listen="$SERVER_ADDR" --metrics_listen= \
  --admin_listen="$ADMIN_ADDR" --admin_token_file="$certs/admin_token" \
  --tls_cert="$certs/server.pem" --tls_key="$certs/server.key" \
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

export AFFINITY_CERTS="$certs" AFFINITY_ADMIN_TOKEN="$token"
api_test "over TLS"

echo "python client: passed"
