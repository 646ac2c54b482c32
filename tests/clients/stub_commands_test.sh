#!/usr/bin/env bash
# server/README.md, "Clients in other languages": its Go and Java protoc
# commands, run as written from a copy of the repository's proto/ folder,
# write the stubs it names; and recommender.proto alone fails the way it
# says (its imports must be beside it).
set -uo pipefail
source tests/testing/cli_checks.sh

WORK="$TEST_TMPDIR/repo"
mkdir -p "$WORK/proto/affinity/v1"
cp proto/affinity/v1/*.proto "$WORK/proto/affinity/v1/"

for tool in /usr/bin/protoc /usr/bin/protoc-gen-go /usr/bin/protoc-gen-go-grpc /usr/bin/grpc_java_plugin; do
  [ -x "$tool" ] || { echo "FAIL: $tool missing: run tools/install_deps.sh"; exit 1; }
done

# The section's code lines (mkdir and protoc commands).
commands=$(awk '/^## Clients in other languages/ {on = 1; next} /^## / {on = 0}
                on && /^```/ {code = !code; next} on && code' server/README.md)
[ "$(grep -c '^protoc ' <<<"$commands")" -eq 2 ] || fail "expected two protoc commands: $commands"
while IFS= read -r command; do
  out=$(cd "$WORK" && bash -c "$command" 2>&1) || fail "failed: $command :: $out"
done <<<"$commands"

for f in recommender.pb.go recommender_grpc.pb.go rules.pb.go outcomes.pb.go; do
  [ -s "$WORK/gen/go/affinity/v1/$f" ] || fail "Go: no gen/go/affinity/v1/$f"
done
grep -q '^package affinityv1$' "$WORK/gen/go/affinity/v1/recommender_grpc.pb.go" || fail "Go package is not affinityv1"
grep -q 'func NewRecommenderClient' "$WORK/gen/go/affinity/v1/recommender_grpc.pb.go" || fail "no Go client"
for f in RecommendRequest.java RecommendResponse.java Filter.java EventType.java RecommenderGrpc.java \
         RecommenderProto.java; do
  [ -s "$WORK/gen/java/affinity/v1/$f" ] || fail "Java: no gen/java/affinity/v1/$f"
done
grep -q 'public static RecommenderBlockingStub newBlockingStub' "$WORK/gen/java/affinity/v1/RecommenderGrpc.java" \
  || fail "no Java blocking stub"

# Every file of the API carries the options.
for proto in "$WORK"/proto/affinity/v1/*.proto; do
  for option in 'go_package = "affinity/v1;affinityv1"' 'java_package = "affinity.v1"' 'java_multiple_files = true'; do
    grep -q "^option $option;" "$proto" || fail "$(basename "$proto"): no option $option"
  done
done

# recommender.proto alone: its imports are missing.
mkdir -p "$TEST_TMPDIR/alone/proto/affinity/v1" "$TEST_TMPDIR/alone/gen"
cp proto/affinity/v1/recommender.proto "$TEST_TMPDIR/alone/proto/affinity/v1/"
expect_exit 1 "affinity/v1/outcomes.proto: File not found." -- \
  bash -c "cd '$TEST_TMPDIR/alone' && protoc -I proto --go_out=gen proto/affinity/v1/recommender.proto"

finish "stub command"
