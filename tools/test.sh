#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test.
#   tools/test.sh                   the normal (gcc, -O2) build
#   tools/test.sh --config=asan     AddressSanitizer + UndefinedBehaviorSanitizer
#   tools/test.sh --config=tsan //tests/server/...   ThreadSanitizer
# Sanitizer builds use their own output base (/tmp/affinity-CONFIG, or
# $AFFINITY_SANITIZER_OUTPUT_BASE) so they do not evict the normal build.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
startup=()
targets=()
sanitizer=false
for arg in "$@"; do
  case "$arg" in
    --config=asan | --config=tsan)
      sanitizer=true
      startup=("--output_base=${AFFINITY_SANITIZER_OUTPUT_BASE:-/tmp/affinity-${arg#--config=}}") ;;
  esac
  case "$arg" in
    -*) ;;
    *) targets+=("$arg") ;;
  esac
done
if $sanitizer; then
  # Another output base: leave the normal build's bazel-* links alone
  # (--symlink_prefix=/ makes none), and name the packages instead of //...,
  # which would walk into those links and load the other output base.
  set -- --symlink_prefix=/ "$@"
  if [ ${#targets[@]} -eq 0 ]; then
    set -- "$@" //proto/... //server/... //storage/... //tests/... //tools/... //trainer/...
  fi
elif [ ${#targets[@]} -eq 0 ]; then
  set -- "$@" //...
fi
bazel "${startup[@]}" test --jobs=2 --local_cpu_resources=2 "$@"
