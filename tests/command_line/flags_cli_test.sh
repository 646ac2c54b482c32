#!/usr/bin/env bash
# The flag contract of the four binaries, as the READMEs state it: an
# unknown or malformed flag exits 2 with one line on stderr that names the
# flag and points at --help (stdout empty); --help prints the usage and the
# program's own flags on stdout (stderr empty) and exits 0.
set -uo pipefail

BIN="$TEST_SRCDIR/affinity"
TMP="$TEST_TMPDIR"
source "$BIN/tests/testing/cli_checks.sh"

# run NAME ARGS...: exit code in $code, stdout in $out, stderr in $err.
run() {
  "$@" >"$TMP/out" 2>"$TMP/err"; code=$?
  out=$(cat "$TMP/out"); err=$(cat "$TMP/err")
}

# expect_flag_error PROGRAM MESSAGE ARGS...: exit 2, nothing on stdout, and
# "PROGRAM: MESSAGE (see PROGRAM --help)" alone on stderr.
expect_flag_error() {
  local program=$1 message=$2; shift 2
  run "$@"
  local want="$program: $message (see $program --help)"
  [ "$code" -eq 2 ] || fail "exit $code, want 2: $* :: $err"
  [ -z "$out" ] || fail "stdout not empty: $* :: $out"
  [ "$err" = "$want" ] || fail "stderr of $*: got '$err', want '$want'"
}

# expect_help PROGRAM FLAG...: --help exits 0, prints on stdout only, and
# lists each FLAG (one of the program's own) and no Abseil internal flag.
expect_help() {
  local program=$1; shift
  local path=$1; shift
  run "$BIN/$path" --help
  [ "$code" -eq 0 ] || fail "$program --help: exit $code, want 0"
  [ -z "$err" ] || fail "$program --help wrote to stderr: $err"
  grep -q "^$program: " <<<"$out" || fail "$program --help: no usage line: $out"
  for flag in "$@"; do
    grep -q -- "^    --$flag (" <<<"$out" || fail "$program --help does not list --$flag"
  done
  grep -q -- "--flagfile\|--undefok" <<<"$out" && fail "$program --help lists Abseil's own flags"
}

TRAIN="$BIN/trainer/affinity-train"
SERVER="$BIN/server/affinity-server"
CLI="$BIN/tools/affinity"
LOADGEN="$BIN/tools/loadgen/loadgen"

expect_help affinity-train trainer/affinity-train input db factors gate_metric version catalog_format
expect_help affinity-server server/affinity-server db listen rules admin_listen
expect_help affinity tools/affinity server user filters_json weights
expect_help loadgen tools/loadgen/loadgen server qps users_file

for program in affinity-train affinity-server affinity loadgen; do
  case $program in
    affinity-train) bin=$TRAIN ;; affinity-server) bin=$SERVER ;;
    affinity) bin=$CLI ;; loadgen) bin=$LOADGEN ;;
  esac
  expect_flag_error "$program" "unknown flag --no_such_flag" "$bin" --no_such_flag=1
  # --helpshort is --help; --only_check_args checks the flags and exits 0.
  run "$bin" --helpshort
  [ "$code" -eq 0 ] && [ -n "$out" ] && [ -z "$err" ] || fail "$program --helpshort: exit $code :: $err"
  run "$bin" --only_check_args --no_such_flag
  [ "$code" -eq 2 ] || fail "$program --only_check_args --no_such_flag: exit $code, want 2"
done

# Malformed values, missing values, the wrong form, near misses.
expect_flag_error affinity-train "--factors: 'many' is not a valid value, expected an integer" \
  "$TRAIN" --input=x --db=y --factors=many
expect_flag_error affinity-train "--holdout: '20%' is not a valid value, expected a number" \
  "$TRAIN" --holdout=20%
expect_flag_error affinity-train "--puresvd: 'maybe' is not a valid value, expected true or false" \
  "$TRAIN" --puresvd=maybe
expect_flag_error affinity-train "--seed: '-1' is not a valid value, expected a non-negative integer" \
  "$TRAIN" --seed=-1
expect_flag_error affinity-train "unknown flag --itrations; did you mean --iterations?" \
  "$TRAIN" --itrations=3
expect_flag_error affinity-train "--factors: missing value, expected --factors=VALUE" "$TRAIN" --factors
expect_flag_error affinity-train "unknown flag --nofactors (--factors is not a boolean flag)" \
  "$TRAIN" --nofactors
expect_flag_error affinity-server "--max_k: '10k' is not a valid value, expected an integer" \
  "$SERVER" --db=x --max_k=10k
expect_flag_error affinity-server "unknown flag --pol_ms; did you mean --poll_ms?" \
  "$SERVER" --pol_ms=100
expect_flag_error affinity "unknown flag --users; did you mean --user?" "$CLI" recommend --users=1
expect_flag_error affinity "--k: 'ten' is not a valid value, expected an integer" "$CLI" recommend --user=1 --k=ten
expect_flag_error loadgen "--qps: '' is not a valid value, expected a number" "$LOADGEN" --qps=
expect_flag_error loadgen "unknown flag --duration; did you mean --duration_s?" "$LOADGEN" --duration=5

# A word where a flag was meant is an error too, not ignored.
run "$SERVER" --db="$TMP/none" serve
[ "$code" -eq 2 ] && grep -q "unexpected argument 'serve'" <<<"$err" || fail "server positional: $code $err"

# The forms that work: --flag value, --bool / --nobool, "--" ending the flags.
run "$TRAIN" versions --db "$TMP/nothing"
[ "$code" -eq 1 ] && grep -q "no model store at $TMP/nothing" <<<"$err" || fail "--db DIR form: $code $err"
run "$TRAIN" --db="$TMP/nothing" -- versions
[ "$code" -eq 1 ] && grep -q "no model store" <<<"$err" || fail "-- form: $code $err"
run "$TRAIN" --db="$TMP/nothing" --nopuresvd --puresvd versions
[ "$code" -eq 1 ] || fail "--nobool / --bool: exit $code :: $err"

# `affinity rollout` reads its own flags with the same contract.
run "$CLI" rollout --help
[ "$code" -eq 0 ] && [ -z "$err" ] && grep -q -- "--fraction" <<<"$out" || fail "affinity rollout --help: $code $err"
run "$CLI" rollout show --db="$TMP/x" --no_such_flag=1
[ "$code" -eq 2 ] && grep -q -- "--no_such_flag" <<<"$err" || fail "affinity rollout unknown flag: $code $err"

finish "command-line flag"
