// Keeps an index that a server had to build (an HNSW graph or IVF lists:
// the version had none stored, or a stored one failed its checks) with its
// version in the model store, so that later loads, here or on other
// servers, load it instead of building it again. The server's own store
// handles are followers, which cannot write: the store is opened
// read-write for the write alone, as a rollout change does
// (server/rollout/rollout_status.h), and closed again.
// Thread-compatible; nothing throws.
#ifndef AFFINITY_SERVER_LIFECYCLE_BUILT_INDEX_STORE_H_
#define AFFINITY_SERVER_LIFECYCLE_BUILT_INDEX_STORE_H_

#include <string>

#include "absl/status/statusor.h"
#include "affinity/v1/model.pb.h"
#include "server/lifecycle/loaded_model.h"

namespace affinity::server {

// Stores `model`'s index (index_source "built", an HNSW or IVF scorer) with
// its version in the store at `db`, replacing a stored one that failed its
// checks at load. Returns the stored header. AlreadyExists when the version
// had none at load and one of the same parameters and item vectors is
// stored now (another server stored it first); Unavailable "busy" when
// another process held the store's write lock for lock_wait_ms;
// FailedPrecondition for a model without an index built here; the store's
// errors otherwise (a read-only store fails to open).
absl::StatusOr<affinity::v1::IndexHeader> StoreBuiltIndex(const std::string& db,
                                                          const LoadedModel& model,
                                                          int lock_wait_ms);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_LIFECYCLE_BUILT_INDEX_STORE_H_
