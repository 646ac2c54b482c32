// Top-k recommendations of a published model version for a few users,
// computed from what the store holds (the same vectors and seen items a
// server loads), with catalog titles when the catalog has them.
#ifndef AFFINITY_TRAINER_MODEL_PREVIEW_H_
#define AFFINITY_TRAINER_MODEL_PREVIEW_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "storage/model_store.h"

namespace affinity {

// Prints, per user, up to k items ranked by <user, item> among the items
// the user has not seen. Unknown users are reported, not an error.
absl::Status PrintTopK(const storage::ModelVersionReader& model,
                       const std::string& db, const std::vector<std::string>& users,
                       int k, std::ostream& out);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_MODEL_PREVIEW_H_
