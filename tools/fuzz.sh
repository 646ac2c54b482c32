#!/usr/bin/env bash
# tools/fuzz.sh TARGET SECONDS [LIBFUZZER_FLAGS...]
#
# Builds //tests/fuzz:TARGET_fuzzer with clang-16, libFuzzer, AddressSanitizer
# and UndefinedBehaviorSanitizer (.bazelrc config "fuzz") and runs it for
# SECONDS on a copy of tests/fuzz/corpus/TARGET/ plus tests/fuzz/regressions/TARGET/,
# then prints the executions, the rate and the findings.
#
# TARGET: interactions, catalog, rules, rollout, spark_factors or
# request_validation.
#
# The clang build lives in its own Bazel output base ($AFFINITY_FUZZ_OUTPUT_BASE,
# default ~/.cache/bazel-affinity-fuzz): selecting clang reconfigures the
# auto-detected C++ toolchain, which in the normal output base would throw
# away the gcc build's cache. The grown corpus stays in $AFFINITY_FUZZ_WORK
# (default /tmp/affinity-fuzz/TARGET); a crashing input is written there as
# crash-* (add it to tests/fuzz/regressions/TARGET/ once fixed). Exit code:
# 0 no finding, 1 a finding, 2 bad usage or build failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 2 ]; then
  sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
fi
target=$1
seconds=$2
shift 2
if [ ! -d "tests/fuzz/corpus/$target" ]; then
  echo "fuzz.sh: unknown target '$target', expected one of: $(ls tests/fuzz/corpus | tr '\n' ' ')" >&2
  exit 2
fi

output_base=${AFFINITY_FUZZ_OUTPUT_BASE:-$HOME/.cache/bazel-affinity-fuzz}
work=${AFFINITY_FUZZ_WORK:-/tmp/affinity-fuzz/$target}
mkdir -p "$work/corpus"

bazel --output_base="$output_base" build --jobs=2 --local_cpu_resources=2 --config=fuzz \
  "//tests/fuzz:${target}_fuzzer" >&2 || exit 2
binary="$(bazel --output_base="$output_base" info --config=fuzz bazel-bin 2>/dev/null)/tests/fuzz/${target}_fuzzer"

seeds=("$PWD/tests/fuzz/corpus/$target")
if [ -d "tests/fuzz/regressions/$target" ]; then seeds+=("$PWD/tests/fuzz/regressions/$target"); fi
log="$work/fuzz.log"
status=0
(cd "$work" && ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  "$binary" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=4096 \
  -timeout=10 "$@" corpus "${seeds[@]}") >"$log" 2>&1 || status=$?

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
crashes=$(ls "$work" | grep -c -E '^(crash|leak|timeout|oom)-' || true)
echo "target=$target seconds=$seconds executions=${execs:-?} execs_per_sec=${rate:-?} corpus=$(ls "$work/corpus" | wc -l) findings=$crashes log=$log"
if [ "$status" -ne 0 ] || [ "$crashes" -ne 0 ]; then
  grep -E -A30 '^==[0-9]+==ERROR|runtime error|invariant failed|deadly signal' "$log" | head -60
  ls "$work" | grep -E '^(crash|leak|timeout|oom)-' | sed "s|^|finding: $work/|"
  exit 1
fi
