// A small model version for model store tests: deterministic users and
// items with awkward float values, written through a VersionWriter and
// checked bit-exactly through a ModelVersionReader.
#ifndef AFFINITY_TESTS_STORAGE_MODEL_FIXTURE_H_
#define AFFINITY_TESTS_STORAGE_MODEL_FIXTURE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "affinity/v1/model.pb.h"
#include "storage/model_store.h"

namespace affinity::storage::testing {

struct SmallModel {
  int dims = 3;
  std::vector<std::string> item_ids;
  std::vector<float> item_factors;  // items x dims
  std::vector<std::string> user_ids;
  std::vector<std::vector<float>> user_factors;
  std::vector<std::vector<uint32_t>> seen;
  std::vector<uint32_t> popular;
  // Published as refused by the nightly gate (may not serve).
  bool ineligible = false;

  // `seed` varies the values so that versions differ.
  static SmallModel Make(int users, int items, int dims, uint32_t seed);
  affinity::v1::ModelMetadata Metadata() const;
};

// Adds every item, user and the popular list (not Publish).
absl::Status WriteModel(const SmallModel& model, VersionWriter& writer);
// Writes and publishes; returns the version number (0 on failure, with a
// test failure recorded).
uint64_t PublishModel(ModelStore& store, const SmallModel& model);
// Records test failures for every difference between the reader's version
// and `model`.
void ExpectModelEquals(const SmallModel& model, const ModelVersionReader& reader);

}  // namespace affinity::storage::testing

#endif  // AFFINITY_TESTS_STORAGE_MODEL_FIXTURE_H_
