#!/usr/bin/env bash
# Generates the Python message and gRPC stubs of affinity.v1 into OUT_DIR
# (as OUT_DIR/affinity/v1/recommender_pb2{,_grpc}.py), and the messages of
# server reflection v1 (OUT_DIR/reflection_pb2.py), with Debian's protoc and
# grpc_python_plugin, which match python3-protobuf and python3-grpcio.
#
#   generate_stubs.sh OUT_DIR [PROTO_ROOT]
#
# PROTO_ROOT defaults to the repository's proto/ directory.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 OUT_DIR [PROTO_ROOT]" >&2
  exit 2
fi
out_dir=$1
proto_root=${2:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../proto" && pwd)"}
proto=affinity/v1/recommender.proto
# recommender.proto imports rules.proto (request filters) and outcomes.proto
# (ReportOutcome): their messages too.
imports=(affinity/v1/rules.proto affinity/v1/outcomes.proto)
if [ ! -f "$proto_root/$proto" ]; then
  echo "error: $proto_root/$proto not found (give PROTO_ROOT)" >&2
  exit 1
fi
for tool in /usr/bin/protoc /usr/bin/grpc_python_plugin; do
  if [ ! -x "$tool" ]; then
    echo "error: $tool missing (apt-get install protobuf-compiler protobuf-compiler-grpc)" >&2
    exit 1
  fi
done
mkdir -p "$out_dir"
/usr/bin/protoc --proto_path="$proto_root" \
  --python_out="$out_dir" \
  --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
  --grpc_python_out="$out_dir" \
  "$proto_root/$proto"
/usr/bin/protoc --proto_path="$proto_root" --python_out="$out_dir" \
  "${imports[@]/#/$proto_root/}"
# Server reflection v1 (list_services.py), as the top-level module
# reflection_pb2: under grpc/ it would be hidden by the grpc package.
/usr/bin/protoc --proto_path="$proto_root/grpc/reflection/v1" --python_out="$out_dir" \
  "$proto_root/grpc/reflection/v1/reflection.proto"
echo "stubs written to $out_dir/affinity/v1 and $out_dir/reflection_pb2.py" >&2
