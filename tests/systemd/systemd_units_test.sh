#!/usr/bin/env bash
# The units of tools/systemd/: `systemd-analyze verify` accepts them without a
# single warning (the server's template with the admin.conf drop-in, the
# nightly service and its timer), and the server's ExecStart= line, expanded
# with the unit's default environment (and with the drop-in's), starts the
# real affinity-server on a test store: it serves, reloads its rules on
# `systemctl reload` (ExecReload=, SIGHUP) and exits 0 on SIGTERM.
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
PYTHON=/usr/bin/python3
free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

command -v systemd-analyze >/dev/null ||
  fail "systemd-analyze is missing (Debian 12's systemd package provides it)"

# verify checks that ExecStart= binaries exist: point them at the built ones.
units="$TEST_TMPDIR/units"
mkdir -p "$units/affinity-server@.service.d"
for f in affinity-server@.service affinity-nightly.service affinity-nightly.timer; do
  sed -e "s#/usr/local/bin/affinity-server#$PWD/server/affinity-server#" \
      -e "s#/usr/local/bin/affinity-train#$PWD/trainer/affinity-train#" \
      "tools/systemd/$f" >"$units/$f"
done
cp tools/systemd/admin.conf "$units/affinity-server@.service.d/admin.conf"
# It exits 0 on unknown keys and unparsable values, so any output fails.
out=$(cd "$units" && systemd-analyze verify ./affinity-server@.service \
  ./affinity-nightly.service ./affinity-nightly.timer 2>&1) ||
  fail "systemd-analyze verify failed: $out"
[ -z "$out" ] || fail "systemd-analyze verify warned: $out"
# The drop-in is read (a misspelt key in it is reported).
printf '[Service]\nReadWritePathz=/x\n' >"$units/affinity-server@.service.d/zz-probe.conf"
out=$(cd "$units" && systemd-analyze verify ./affinity-server@.service 2>&1 || true)
grep -q "ReadWritePathz" <<<"$out" || fail "verify did not read the drop-in directory: $out"
rm "$units/affinity-server@.service.d/zz-probe.conf"

# ExecStart= (continuation lines joined) and the Environment= defaults.
unit=tools/systemd/affinity-server@.service
exec_start=$(sed -n '/^ExecStart=/,/[^\\]$/p' "$unit" | sed 's/\\$//' | tr '\n' ' ' |
  sed 's/^ExecStart=//')
defaults=$(sed -n 's/^Environment=\(LISTEN=.*\)$/\1/p' "$unit")
admin_env=$(sed -n 's/^Environment=\(ADMIN_LISTEN=.*\)$/\1/p' tools/systemd/admin.conf)
[ -n "$exec_start" ] && [ -n "$defaults" ] && [ -n "$admin_env" ] ||
  fail "no ExecStart=/Environment= line found in $unit or admin.conf"
grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$unit" || fail "ExecReload= is not kill -HUP"

store="$TEST_TMPDIR/store"
timeout 60 tests/clients/make_test_model --db="$store" || fail "make_test_model"
mkdir -p "$store/events"

SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID"; fi
}
trap stop_server EXIT

# run_unit NAME [ENV ASSIGNMENTS...]: the expanded ExecStart= as systemd would
# run it for instance NAME, the store moved to the test's, ports made free.
run_unit() {
  local name=$1; shift
  # The unit's variables stay set for stop_unit.
  eval "$defaults"
  for assignment in "$@"; do eval "$assignment"; done
  LISTEN="127.0.0.1:$(free_port)"
  METRICS_LISTEN="127.0.0.1:$(free_port)"
  [ -z "$ADMIN_LISTEN" ] || ADMIN_LISTEN="127.0.0.1:$(free_port)"
  local line=${exec_start//\%H/$(hostname)}
  line=${line//\%i/$name}
  line=${line//\/usr\/local\/bin\/affinity-server/server/affinity-server}
  line=${line//\/var\/lib\/affinity\/db/$store}
  local tmp="$TEST_TMPDIR/cache-$name"
  mkdir -p "$tmp"
  LOG="$TEST_TMPDIR/$name.log"
  eval "set -- $line"
  echo "$name: $*"
  TMPDIR="$tmp" "$@" >"$LOG" 2>&1 &  # signalled directly, as systemd does; killed on exit
  SERVER_PID=$!
  if ! timeout 40 "$PYTHON" tools/wait_for_serving.py --server="$LISTEN" --timeout_s=30 \
      --pid="$SERVER_PID"; then
    cat "$LOG" >&2
    fail "$name: the unit's command line did not serve"
  fi
  if [ -n "$ADMIN_LISTEN" ]; then
    timeout 40 "$PYTHON" tools/wait_for_serving.py --server="$ADMIN_LISTEN" --timeout_s=10 ||
      fail "$name: no admin port at $ADMIN_LISTEN"
  fi
  ls "$tmp" | grep -q '^affinity-follower-' || fail "$name: no follower directory under TMPDIR"
  [ -d "$store/events/$(hostname)-$name" ] || fail "$name: no events store $(hostname)-$name"
}

stop_unit() {
  local name=$1
  kill -HUP "$SERVER_PID"  # ExecReload=
  for _ in $(seq 50); do grep -q "SIGHUP: reloading the rules file" "$LOG" && break; sleep 0.1; done
  grep -q "SIGHUP: reloading the rules file" "$LOG" || fail "$name: SIGHUP did not reload the rules"
  "$PYTHON" tools/wait_for_serving.py --server="$LISTEN" --timeout_s=5 ||
    fail "$name: not serving after the reload"
  kill -TERM "$SERVER_PID"
  local code=0
  wait "$SERVER_PID" || code=$?
  SERVER_PID=""
  [ "$code" -eq 0 ] || { cat "$LOG" >&2; fail "$name: exit code $code after SIGTERM, expected 0"; }
  grep -q "admin services on" "$LOG" && [ -z "$ADMIN_LISTEN" ] &&
    fail "$name: the admin port is open without the admin.conf drop-in"
  return 0
}

run_unit main
stop_unit main
run_unit admin "$admin_env"
stop_unit admin

echo "systemd units: passed"
