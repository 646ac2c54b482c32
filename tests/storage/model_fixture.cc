#include "tests/storage/model_fixture.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <random>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace affinity::storage::testing {
namespace {

bool SameBits(absl::Span<const float> a, absl::Span<const float> b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

SmallModel SmallModel::Make(int users, int items, int dims, uint32_t seed) {
  SmallModel model;
  model.dims = dims;
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<uint32_t> pick(0, items - 1);
  const float awkward[] = {-0.0f, std::numeric_limits<float>::denorm_min(),
                           std::numeric_limits<float>::max(), -1e-30f};
  for (int i = 0; i < items; ++i) {
    model.item_ids.push_back(absl::StrCat("item-", seed, "-", i, i % 2 ? ",x" : ""));
    for (int d = 0; d < dims; ++d) model.item_factors.push_back(normal(rng));
  }
  model.item_factors[0] = awkward[seed % 4];
  for (int u = 0; u < users; ++u) {
    model.user_ids.push_back(absl::StrCat("u", (u * 7919) % users, "-", seed));
    std::vector<float> factors;
    for (int d = 0; d < dims; ++d) factors.push_back(normal(rng));
    factors[dims - 1] = awkward[(seed + u) % 4];
    model.user_factors.push_back(factors);
    std::vector<uint32_t> seen;
    for (int k = 0; k < u % 5; ++k) seen.push_back(pick(rng));
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    model.seen.push_back(seen);
  }
  for (int i = items - 1; i >= 0 && model.popular.size() < 3; --i) {
    model.popular.push_back(i);
  }
  return model;
}

affinity::v1::ModelMetadata SmallModel::Metadata() const {
  affinity::v1::ModelMetadata metadata;
  metadata.set_algorithm("implicit_als_cg");
  metadata.set_dims(dims);
  metadata.set_factors(dims);
  metadata.set_users(user_ids.size());
  metadata.set_items(item_ids.size());
  metadata.set_regularization(0.05f);
  (*metadata.mutable_parameters())["iterations"] = "15";
  (*metadata.mutable_metrics())["precision_at_10"] = 0.125;
  if (ineligible) {
    metadata.set_ineligible(true);
    metadata.mutable_gate()->set_outcome(affinity::v1::GateRecord::FAILED);
  }
  return metadata;
}

absl::Status WriteModel(const SmallModel& model, VersionWriter& writer) {
  // Items in reverse order: any order is allowed.
  for (int i = static_cast<int>(model.item_ids.size()) - 1; i >= 0; --i) {
    absl::Status s = writer.AddItem(
        i, model.item_ids[i],
        absl::MakeConstSpan(&model.item_factors[size_t{1} * i * model.dims],
                            model.dims));
    if (!s.ok()) return s;
  }
  for (size_t u = 0; u < model.user_ids.size(); ++u) {
    absl::Status s = writer.AddUser(u, model.user_ids[u], model.user_factors[u],
                                    model.seen[u]);
    if (!s.ok()) return s;
  }
  return writer.SetPopularItems(model.popular);
}

uint64_t PublishModel(ModelStore& store, const SmallModel& model) {
  absl::StatusOr<std::unique_ptr<VersionWriter>> writer = store.CreateVersion();
  EXPECT_TRUE(writer.ok()) << writer.status();
  if (!writer.ok()) return 0;
  absl::Status s = WriteModel(model, **writer);
  EXPECT_TRUE(s.ok()) << s;
  s = (*writer)->Publish(model.Metadata());
  EXPECT_TRUE(s.ok()) << s;
  return s.ok() ? (*writer)->version() : 0;
}

void ExpectModelEquals(const SmallModel& model, const ModelVersionReader& reader) {
  const affinity::v1::ModelMetadata& metadata = reader.metadata();
  EXPECT_EQ(metadata.dims(), model.dims);
  EXPECT_EQ(metadata.users(), static_cast<int64_t>(model.user_ids.size()));
  EXPECT_EQ(metadata.items(), static_cast<int64_t>(model.item_ids.size()));
  EXPECT_EQ(metadata.algorithm(), "implicit_als_cg");
  EXPECT_EQ(metadata.parameters().at("iterations"), "15");
  EXPECT_EQ(metadata.metrics().at("precision_at_10"), 0.125);

  EXPECT_EQ(reader.item_ids(), model.item_ids);
  std::vector<float> items(model.item_factors.size(), 7.0f);
  ASSERT_TRUE(reader.ReadItemFactors(absl::MakeSpan(items)).ok());
  EXPECT_TRUE(SameBits(items, model.item_factors));
  for (size_t i = 0; i < model.item_ids.size(); ++i) {
    absl::StatusOr<uint32_t> index = reader.ItemIndex(model.item_ids[i]);
    ASSERT_TRUE(index.ok()) << index.status();
    EXPECT_EQ(*index, i);
  }
  EXPECT_EQ(reader.popular_items(), model.popular);

  std::map<std::string, size_t> by_id;
  for (size_t u = 0; u < model.user_ids.size(); ++u) {
    by_id[model.user_ids[u]] = u;
    absl::StatusOr<UserRecord> user = reader.GetUser(model.user_ids[u]);
    ASSERT_TRUE(user.ok()) << user.status();
    EXPECT_EQ(user->index, static_cast<int64_t>(u));
    EXPECT_TRUE(SameBits(user->factors, model.user_factors[u])) << model.user_ids[u];
    EXPECT_EQ(user->seen, model.seen[u]);
  }
  auto expected = by_id.begin();
  absl::Status s = reader.ForEachUser(
      [&](absl::string_view id, const UserRecord& user) -> absl::Status {
        if (expected == by_id.end()) return absl::OutOfRangeError("extra user");
        EXPECT_EQ(id, expected->first);
        EXPECT_EQ(user.index, static_cast<int64_t>(expected->second));
        EXPECT_TRUE(SameBits(user.factors, model.user_factors[expected->second]));
        ++expected;
        return absl::OkStatus();
      });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(expected == by_id.end());
}

}  // namespace affinity::storage::testing
