# Shared by the command-line tests: source it, run checks, end with
# `finish "what was checked"`. A failed check is printed and counted; the
# test fails at the end, so that one run shows every failure.
#
#   expect_exit CODE PATTERN -- command...   runs it, checks its exit code
#                                             and that its output (stdout
#                                             and stderr) matches PATTERN
#                                             (a basic regular expression)
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

expect_exit() {
  local want=$1 pattern=$2; shift 3
  local out code
  out=$("$@" 2>&1); code=$?
  [ "$code" -eq "$want" ] || fail "exit $code, want $want: $* :: $out"
  grep -q -- "$pattern" <<<"$out" || fail "no '$pattern' in output of $*: $out"
}

finish() {
  if [ "$failures" -ne 0 ]; then echo "$failures failed"; exit 1; fi
  echo "all $1 checks passed"
}
