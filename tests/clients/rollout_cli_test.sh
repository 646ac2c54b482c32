#!/usr/bin/env bash
# Runs the built `affinity rollout` against two stores made by
# make_test_model (versions 1..3, version 3 refused by the gate): a change
# written to both, show agreeing; a change to one store only, show saying
# DISAGREE with exit code 3; refusals with exit code 2.
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
rollout() { timeout 60 tools/affinity rollout "$@"; }
# Runs expecting a given exit code; sets out and err.
expect_exit() {
  local want=$1; shift
  set +e
  out=$(rollout "$@" 2>"$TMP/err")
  local code=$?
  set -e
  err=$(cat "$TMP/err")
  echo "$out"; echo "$err" >&2
  [ "$code" -eq "$want" ] || fail "rollout $*: exit $code, expected $want"
}

TMP="${TEST_TMPDIR:-$(mktemp -d)}"
A="$TMP/a"; B="$TMP/b"
for dir in "$A" "$B"; do
  timeout 60 tests/clients/make_test_model --db="$dir" --versions=3 --ineligible_versions=3 \
    || fail "make_test_model $dir"
done
export USER=ci

expect_exit 0 show --db="$A,$B"
echo "$out" | grep -q "all 2 targets agree" || fail "fresh stores: no agreement line"

expect_exit 0 set --db="$A,$B" --arm=treatment --version=1 --fraction=10% --reason="try v1"
echo "$out" | grep -qx "$A: revision 0 -> 1" || fail "set: revision of A not listed"
echo "$out" | grep -qx "$B: revision 0 -> 1" || fail "set: revision of B not listed"
echo "$out" | grep -qx "  arm treatment: added, version 1 on 10%" || fail "set: change not printed"

expect_exit 0 show --db="$A,$B"
[ "$(echo "$out" | grep -Ec '^treatment +1 +10% +9000-9999$')" -eq 2 ] \
  || fail "show: the treatment arm is not on 10% with buckets 9000-9999 in both"
echo "$out" | grep -q "all 2 targets agree" || fail "show after set: not agreeing"

expect_exit 0 history --db="$B" --limit=5
echo "$out" | grep -q "set  by ci@.* via affinity rollout" || fail "history: by not recorded"
echo "$out" | grep -qx "  reason: try v1" || fail "history: reason not recorded"

# Only B changes: show names what differs and exits 3.
expect_exit 0 set --db="$B" --arm=treatment --fraction=20%
expect_exit 3 show --db="$A,$B"
echo "$out" | grep -qx "DISAGREE: arms: $A has control=2@90% treatment=1@10%; $B has control=2@80% treatment=1@20%" \
  || fail "show: DISAGREE line missing or wrong"

# The gated version is refused with the store's reason; nothing changes.
expect_exit 2 set --db="$A" --arm=treatment --version=3 --fraction=10%
echo "$err" | grep -q "version 3 may not take traffic: the nightly gate refused it" \
  || fail "gated version: reason not printed"
expect_exit 2 set --db="$A" --arm=treatment --fraction=ten
echo "$err" | grep -q -- '--fraction: "ten"' || fail "bad fraction: flag not named"
expect_exit 2 frobnicate --db="$A"
expect_exit 0 --help
echo "$out" | grep -q "Exit codes" || fail "--help: exit codes not listed"

# Promote on both, then rollback returns both to version 2.
expect_exit 0 set --db="$B" --arm=treatment --fraction=10%
expect_exit 0 promote --db="$A,$B"
echo "$out" | grep -q "arms now: control=1@100%" || fail "promote: control is not version 1"
expect_exit 0 rollback --db="$A,$B" --reason="v1 is worse"
echo "$out" | grep -q "arms now: control=2@100%" || fail "rollback: control is not version 2"
expect_exit 0 show --db="$A,$B"
expect_exit 1 rollback --db="$A"
echo "$err" | grep -q "nothing to roll back" || fail "second rollback: no explanation"
echo PASS
