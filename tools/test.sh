#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
bazel test --jobs=2 --local_cpu_resources=2 //... "$@"
