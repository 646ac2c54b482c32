// Turns off ThreadSanitizer's lock-order (deadlock) detector in the test
// binaries that link it (only tests that build HNSW graphs; tests/server/BUILD).
// Read by the TSan runtime at start-up, before TSAN_OPTIONS, which the tsan
// config (.bazelrc) sets without detect_deadlocks, so this default stands;
// without TSan nothing calls it.
//
// Why: hnswlib takes a mutex per graph element, and while it holds the new
// element's (and sometimes the index's global one) it locks each neighbour it
// visits. Every such lock adds to TSan's lock-order graph, which TSan checks
// on each lock: an HNSW build of 1,024 points takes 87 s with the detector
// and 2.8 s without (scorer_test's BuildStopsWhenCancelled). The reports the
// detector makes in these tests also carry no stacks, so the `deadlock:`
// suppression of hnswlib's addPoint in tools/tsan.supp cannot match them
// (stored_index_test reported
// link_list_locks_[0] => the index's global mutex => link_list_locks_[0],
// the order addPoint's comment in tools/tsan.supp explains, without a frame).
// Data races are still detected in these tests.
extern "C" __attribute__((no_sanitize_thread, visibility("default"))) const char*
__tsan_default_options() {
  return "detect_deadlocks=0";
}
