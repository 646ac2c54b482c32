// Writes a trained model into the model store as a new version and
// publishes it: vectors, id maps, each user's seen items, the popularity
// order, the metadata and, when asked, an ANN index of the items. The
// version becomes visible only if every write succeeded: an index is built
// before the store is opened and written before the version's published
// marker, so the version never serves without it, and a process killed
// while building or writing it leaves every published version as it was
// (the unpublished one is removed by the store's next read-write Open).
#ifndef AFFINITY_TRAINER_MODEL_PUBLISHER_H_
#define AFFINITY_TRAINER_MODEL_PUBLISHER_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "affinity/v1/model.pb.h"
#include "trainer/als/factors.h"
#include "trainer/data/csr.h"
#include "trainer/publish_options.h"

namespace affinity {

struct TrainedModel {
  const std::vector<std::string>* user_ids = nullptr;  // row -> id
  const std::vector<std::string>* item_ids = nullptr;  // column -> id
  const FactorMatrix* users = nullptr;  // score = users.row(u) . items.row(i)
  const FactorMatrix* items = nullptr;
  // What each user has interacted with; the union of these matrices' rows
  // is stored as the user's seen items (train and holdout alike).
  std::vector<const CsrMatrix*> seen;
  std::vector<uint32_t> popular_items;  // most popular first
};

// What PublishModel will need, checked before any work so that a job
// fails in seconds instead of after ingest and training: InvalidArgument
// "--db: cannot write a model store at DIR: <why>" when DIR/models can be
// neither created nor written (storage::CheckStoreWritable; nothing is
// created).
absl::Status CheckPublishTarget(const std::string& db);

// Whether a model of this size can be published, checked right after
// ingest: InvalidArgument "N distinct user ids, expected at most
// 2147483648 (2^31) per model version" (items likewise) otherwise.
absl::Status CheckModelSize(int64_t users, int64_t items);

// "" and "hnsw" are accepted; InvalidArgument "--build_index: ..." else.
absl::Status CheckBuildIndex(const std::string& build_index);

// Returns the published version number. metadata's dims, users and items
// are filled in from the model. `log` (may be null) gets a line, flushed
// at once, when the index is built and another when it is stored.
absl::StatusOr<uint64_t> PublishModel(const std::string& db,
                                      const TrainedModel& model,
                                      affinity::v1::ModelMetadata metadata,
                                      const PublishOptions& options = PublishOptions(),
                                      std::ostream* log = nullptr);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_MODEL_PUBLISHER_H_
