// Writes a tiny, hand-made model version into a store directory, for tests
// that run the clients against a live server.
//
// Items m1..m6 live in 3 dimensions: m1..m3 near axis 0, m4..m5 near axis 1,
// m6 on axis 2. User "alice" points along axis 0 and has seen m1, so her top
// items are m2 then m3; user "bob" points along axis 1 and has seen m4, so his
// top item is m5. The most similar item to m4 is m5. Popular: m6, m4, m1.
// The catalog titles item mK "Movie K". --versions=N publishes the model N
// times (versions 1..N in a new store); --ineligible_versions=a,b publishes
// those as refused by the nightly gate (they may not take traffic).
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "storage/catalog_store.h"
#include "storage/model_store.h"

ABSL_FLAG(std::string, db, "", "Store directory to write the model into.");
ABSL_FLAG(int32_t, versions, 1, "How many times the model is published.");
ABSL_FLAG(std::vector<std::string>, ineligible_versions, {},
          "Versions published as refused by the nightly gate.");

namespace {

struct Vector {
  const char* id;
  std::vector<float> factors;
};

absl::Status WriteModel(const std::string& dir) {
  using affinity::storage::ModelStore;
  const std::vector<Vector> items = {
      {"m1", {1.0f, 0.0f, 0.0f}},  {"m2", {0.9f, 0.1f, 0.0f}},
      {"m3", {0.8f, 0.0f, 0.1f}},  {"m4", {0.0f, 1.0f, 0.0f}},
      {"m5", {0.0f, 0.9f, 0.1f}},  {"m6", {0.0f, 0.0f, 1.0f}}};
  const std::vector<Vector> users = {{"alice", {1.0f, 0.1f, 0.0f}},
                                     {"bob", {0.0f, 1.0f, 0.05f}}};
  const std::vector<std::vector<uint32_t>> seen = {{0}, {3}};

  auto store = ModelStore::Open(dir, ModelStore::Mode::kReadWrite);
  if (!store.ok()) return store.status();
  const std::vector<std::string> gated = absl::GetFlag(FLAGS_ineligible_versions);
  for (int32_t n = 0; n < absl::GetFlag(FLAGS_versions); ++n) {
    auto writer = (*store)->CreateVersion();
    if (!writer.ok()) return writer.status();
    for (uint32_t i = 0; i < items.size(); ++i) {
      if (auto s = (*writer)->AddItem(i, items[i].id, items[i].factors); !s.ok()) return s;
    }
    for (uint32_t u = 0; u < users.size(); ++u) {
      if (auto s = (*writer)->AddUser(u, users[u].id, users[u].factors, seen[u]); !s.ok()) {
        return s;
      }
    }
    if (auto s = (*writer)->SetPopularItems({5, 3, 0}); !s.ok()) return s;
    affinity::v1::ModelMetadata metadata;
    metadata.set_algorithm("implicit_als_cg");
    metadata.set_dims(3);
    metadata.set_factors(3);
    metadata.set_users(static_cast<int64_t>(users.size()));
    metadata.set_items(static_cast<int64_t>(items.size()));
    metadata.set_nnz(2);
    metadata.set_regularization(0.1f);
    metadata.set_alpha(1.0f);
    metadata.set_weight_transform("raw");
    const std::string version = absl::StrCat((*writer)->version());
    if (std::find(gated.begin(), gated.end(), version) != gated.end()) {
      metadata.set_ineligible(true);
      affinity::v1::GateRecord* gate = metadata.mutable_gate();
      gate->set_outcome(affinity::v1::GateRecord::FAILED);
      gate->set_metric("ndcg_at_10");
      gate->set_candidate_value(0.25);
      gate->set_live_value(0.3);
      gate->set_live_version(1);
    }
    if (auto s = (*writer)->Publish(metadata); !s.ok()) return s;
  }

  auto catalog = affinity::storage::CatalogStore::Open(dir);
  if (!catalog.ok()) return catalog.status();
  std::vector<affinity::v1::CatalogItem> entries;
  for (size_t i = 0; i < items.size(); ++i) {
    affinity::v1::CatalogItem& entry = entries.emplace_back();
    entry.set_item_id(items[i].id);
    entry.set_title(absl::StrCat("Movie ", i + 1));
  }
  return (*catalog)->Upsert(entries);
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string dir = absl::GetFlag(FLAGS_db);
  if (dir.empty()) {
    std::cerr << "error: --db is required\n";
    return 2;
  }
  if (absl::Status s = WriteModel(dir); !s.ok()) {
    std::cerr << "error: " << s << "\n";
    return 1;
  }
  return 0;
}
