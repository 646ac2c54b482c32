#!/usr/bin/env bash
# Installs the Debian 12 packages affinity builds, tests and benchmarks with.
# Non-interactive; does nothing when every package is already installed.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap g++ default-jdk-headless
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  libgrpc++-dev libgrpc-dev
  librocksdb-dev libeigen3-dev libarmadillo-dev libabsl-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcivetweb-dev libhnswlib-dev libssl-dev openssl
  clang-16 libclang-rt-16-dev
  python3 python3-numpy python3-grpcio python3-grpc-tools python3-protobuf
  python3-pip python3-venv python3-setuptools python3-wheel
  nodejs npm
  protoc-gen-go protoc-gen-go-grpc protobuf-compiler-grpc-java-plugin
)

missing=()
for p in "${PACKAGES[@]}"; do
  # A nodejs from elsewhere (e.g. NodeSource) bundles npm and conflicts with
  # Debian's npm package: any working npm will do.
  if [ "$p" = npm ] && command -v npm >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
