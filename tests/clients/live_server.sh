# Sourced by the live-server tests: builds a tiny model store and runs
# //server:affinity-server on free loopback ports until the test exits.
#
#   start_live_server   sets DB, SERVER_ADDR, ADMIN_ADDR, SERVER_PID (after SERVING)
#   free_port           prints a currently unused loopback TCP port
# Paths are relative to the workspace's runfiles directory (the test's cwd).

PYTHON=/usr/bin/python3

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_live_server() {
  if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}

start_live_server() {
  DB="${TEST_TMPDIR:-$(mktemp -d)}/store"
  timeout 60 tests/clients/make_test_model --db="$DB" || { echo "FAIL: make_test_model" >&2; exit 1; }
  local port metrics_port
  port=$(free_port)
  metrics_port=$(free_port)
  SERVER_ADDR="127.0.0.1:$port"
  ADMIN_ADDR="127.0.0.1:$(free_port)"
  SERVER_LOG="${TEST_TMPDIR:-/tmp}/server.log"
  # The server never outlives the test: bounded by timeout and stopped on exit.
  timeout 300 server/affinity-server --db="$DB" --listen="$SERVER_ADDR" \
    --metrics_listen="127.0.0.1:$metrics_port" --admin_listen="$ADMIN_ADDR" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  trap stop_live_server EXIT
  if ! timeout 40 "$PYTHON" tools/wait_for_serving.py \
      --server="$SERVER_ADDR" --timeout_s=30 --pid="$SERVER_PID"; then
    echo "FAIL: server did not become SERVING; its log:" >&2
    cat "$SERVER_LOG" >&2
    exit 1
  fi
}
