// The live model version read back from the store and laid out in the
// index space of the night's data, so that it can be evaluated with the
// same train/test matrices as the candidate.
//
// Scores: users.row(u) . items.row(i) is the live version's score for the
// data's user u and item i. Both matrices carry one extra column: 1 for
// every user, and 0 for items the live version knows or -1e30 for items it
// does not, so that it never ranks an item it could not serve. Users the
// live version does not know have all-zero rows (known_users[u] false).
// Not thread-safe while loading; the result is plain data.
#ifndef AFFINITY_TRAINER_NIGHTLY_LIVE_MODEL_H_
#define AFFINITY_TRAINER_NIGHTLY_LIVE_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "affinity/v1/model.pb.h"
#include "storage/model_store.h"
#include "trainer/als/factors.h"
#include "trainer/data/csr.h"

namespace affinity {

struct AlignedLiveModel {
  uint64_t version = 0;
  affinity::v1::ModelMetadata metadata;
  FactorMatrix users;  // data users x (dims + 1)
  FactorMatrix items;  // data items x (dims + 1)
  std::vector<bool> known_users;
  int64_t users_known = 0;
  int64_t items_known = 0;
  // The live version's seen items of each data user, in the data's item
  // indices (items the data does not have are dropped); users x items,
  // values 1. Empty (0 x 0) unless requested.
  CsrMatrix seen;
};

// Reads every user and item vector of `reader`'s version. user_ids and
// item_ids are the data's ids by index.
absl::StatusOr<AlignedLiveModel> LoadAlignedLiveModel(
    const storage::ModelVersionReader& reader, const std::vector<std::string>& user_ids,
    const std::vector<std::string>& item_ids, bool with_seen);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_NIGHTLY_LIVE_MODEL_H_
