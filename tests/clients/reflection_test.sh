#!/usr/bin/env bash
# Server reflection of a live affinity-server, asked by the Python client
# package's affinity-list-services over grpc.reflection.v1 and over v1alpha:
# both list the same services, and the Recommender's methods with their
# message types come from the server's descriptors.
set -euo pipefail
source tests/clients/live_server.sh
source tests/clients/python_package.sh

fail() { echo "FAIL: $*" >&2; exit 1; }

venv="$TEST_TMPDIR/venv"
install_python_client "$venv"
start_live_server

list() {
  timeout 60 "$venv/bin/affinity-list-services" --server="$SERVER_ADDR" "$@"
}

v1=$(list --api=v1)
echo "$v1"
v1alpha=$(list --api=v1alpha)
[ "$v1" = "$v1alpha" ] || fail "v1 and v1alpha differ: $v1alpha"
for service in affinity.v1.Recommender grpc.health.v1.Health grpc.reflection.v1.ServerReflection \
               grpc.reflection.v1alpha.ServerReflection; do
  grep -qx "$service" <<<"$v1" || fail "$service not listed"
done
grep -qx "  Recommend(affinity.v1.RecommendRequest) returns (affinity.v1.RecommendResponse)" <<<"$v1" \
  || fail "Recommend's schema not described"
grep -qx "  ReportOutcome(affinity.v1.ReportOutcomeRequest) returns (affinity.v1.ReportOutcomeResponse)" \
  <<<"$v1" || fail "ReportOutcome's schema not described"

echo "reflection: v1 and v1alpha list the same services"
