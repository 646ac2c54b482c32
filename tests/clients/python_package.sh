# Sourced by the Python client tests: install_python_client VENV installs
# clients/python into a fresh venv the way its README says (pip, offline:
# --no-index --no-build-isolation, Debian's setuptools, grpcio and protobuf
# through --system-site-packages), from a copy of the package beside the
# protos, as in the repository, and fails when the build wrote anything
# into that source tree. Needs $PYTHON, $TEST_TMPDIR and a fail function.
install_python_client() {
  local venv=$1
  local src="$TEST_TMPDIR/src"
  mkdir -p "$src/clients"
  cp -rL clients/python "$src/clients/python"
  cp -rL proto "$src/proto"
  find "$src" | sort >"$TEST_TMPDIR/tree_before"
  "$PYTHON" -m venv --without-pip --system-site-packages "$venv"
  timeout 120 "$venv/bin/python" -m pip install --quiet --no-index --no-build-isolation \
    "$src/clients/python" || fail "pip install clients/python failed"
  find "$src" | sort >"$TEST_TMPDIR/tree_after"
  diff "$TEST_TMPDIR/tree_before" "$TEST_TMPDIR/tree_after" ||
    fail "building the package wrote into its source tree (above)"
}
