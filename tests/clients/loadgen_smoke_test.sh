#!/usr/bin/env bash
# Runs the load generator briefly against a live affinity-server and checks
# its report; checks that non-loopback targets are refused.
set -euo pipefail
source tests/clients/live_server.sh

fail() { echo "FAIL: $*" >&2; exit 1; }
field() { echo "$out" | sed -n "s/^$1: //p"; }

set +e
err=$(timeout 10 tools/loadgen/loadgen --server=10.1.2.3:50051 --duration_s=1 2>&1)
code=$?
set -e
echo "$err"
[ "$code" -eq 2 ] || fail "non-loopback target: exit $code, expected 2"
echo "$err" | grep -q "refused" || fail "non-loopback target not refused"

start_live_server
printf 'alice\nbob\n# comment\ncarol\n' > "$TEST_TMPDIR/users.txt"
printf 'm1\nm2\nm3\nm4\nm5\nm6\n' > "$TEST_TMPDIR/items.txt"

out=$(timeout 60 tools/loadgen/loadgen --server="$SERVER_ADDR" --qps=200 \
  --duration_s=1 --users_file="$TEST_TMPDIR/users.txt" \
  --items_file="$TEST_TMPDIR/items.txt" --recent_per_request=2 --k=3 \
  --deadline_ms=20000)
echo "$out"
[ "$(field due)" -eq 200 ] || fail "expected 200 requests due in 1 s at 200 qps"
[ "$(field sent)" -eq "$(field completed)" ] || fail "not every sent request completed"
[ "$(field 'status OK')" -eq "$(field sent)" ] || fail "not every request answered OK"
grep -Eq '^latency_ms ok: p50 [0-9.]+  p90 [0-9.]+  p99 [0-9.]+  p99.9 [0-9.]+' <<<"$out" \
  || fail "latency quantiles missing"
grep -q '^fallback_only_answers: 0 (0.0% of OK)' <<<"$out" || fail "fold-in answers counted as fallback"

# Users the model does not know, without recent interactions: every answer
# comes from the most-popular fallback. The report says so and the run
# fails, unless --max_fallback_share=1.
set +e
out=$(timeout 60 tools/loadgen/loadgen --server="$SERVER_ADDR" --qps=100 --duration_s=1 \
  --max_requests=20 --user_prefix=stranger --num_users=5 --deadline_ms=20000 2>"$TEST_TMPDIR/err")
code=$?
set -e
echo "$out"
[ "$code" -eq 1 ] || fail "unknown users: exit $code, expected 1"
[ "$(field 'status OK')" -eq 20 ] || fail "unknown users not answered OK"
grep -q '^fallback_answers: 20 (100.0% of OK)' <<<"$out" || fail "fallback answers not counted"
grep -q '^fallback_only_answers: 20 (100.0% of OK)' <<<"$out" || fail "fallback-only answers not counted"
grep -q "100.0% of the OK answers came wholly from the most-popular fallback" "$TEST_TMPDIR/err" \
  || fail "no message for the fallback share: $(cat "$TEST_TMPDIR/err")"
timeout 60 tools/loadgen/loadgen --server="$SERVER_ADDR" --qps=100 --duration_s=1 \
  --max_requests=5 --user_prefix=stranger --num_users=5 --max_fallback_share=1 >/dev/null \
  || fail "--max_fallback_share=1 did not turn the check off"

out=$(timeout 60 tools/loadgen/loadgen --server="$SERVER_ADDR" --method=similar \
  --qps=100 --duration_s=5 --max_requests=50 --items=m1,m4,no-such-item \
  --deadline_ms=20000)
echo "$out"
[ "$(field due)" -eq 50 ] || fail "--max_requests=50 not honoured"
[ "$(field 'status NOT_FOUND')" -gt 0 ] || fail "unknown item did not count as NOT_FOUND"
grep -q '^error NOT_FOUND: ' <<<"$out" || fail "first NOT_FOUND message not reported"

echo "loadgen smoke: 6 passed, 0 failed"
