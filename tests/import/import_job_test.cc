// Importing Spark MLlib ALS factors end to end: the bundled factor tables
// (tests/import/testdata/spark_als) are assembled and published, and the
// store's version holds exactly the vectors written in the files, scores
// <u, i> from them, the seen items and popularity of the interactions, and
// the metadata the server needs. Bad input publishes nothing.
#include "trainer/import/import_job.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/model_store.h"

namespace affinity {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kUsers[] = "tests/import/testdata/spark_als/user_factors";
constexpr char kItems[] = "tests/import/testdata/spark_als/item_factors";

// The vectors as written in the part files.
const std::map<std::string, std::vector<float>>& FileUsers() {
  static const auto* users = new std::map<std::string, std::vector<float>>{
      {"3", {-0.35233447f, -0.6983017f, 0.30186895f}},
      {"1", {-0.85512745f, 0.07176401f, -0.26862216f}},
      {"4", {-0.88400215f, 1.5E-5f, -0.92500865f}},
      {"10", {-0.13270864f, -0.86028916f, -0.81857395f}},
      {"2", {-0.15096162f, 0.6537042f, -0.7523961f}},
  };
  return *users;
}

// In file order (the store's item indices).
const std::vector<std::pair<std::string, std::vector<float>>>& FileItems() {
  static const auto* items = new std::vector<std::pair<std::string, std::vector<float>>>{
      {"100", {-0.55352205f, 0.25486645f, 0.89541787f}},
      {"101", {0.1542059f, -0.20663905f, 0.95251024f}},
      {"102", {-0.90683466f, 0.71693695f, -0.42078143f}},
      {"103", {-0.71148986f, -0.7644155f, -0.38303635f}},
      {"104", {0.6322527f, -0.63854724f, -2.5E7f}},
      {"105", {0.27782694f, -0.25520492f, 0.09548893f}},
  };
  return *items;
}

std::string TempPath(const std::string& name) {
  return absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
}

std::string WriteFile(const std::string& name, const std::string& contents) {
  const std::string path = TempPath(name);
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  EXPECT_NE(f, nullptr) << path;
  if (f != nullptr) {
    std::fwrite(contents.data(), 1, contents.size(), f);
    std::fclose(f);
  }
  return path;
}

// Users 1, 3, 10 and 2 of the tables, plus an unknown user 99 and an
// unknown item 999. Item 103 has three users, 100 and 101 one each.
std::string WriteInteractions(const std::string& name) {
  return WriteFile(name,
                   "user,item,weight\n"
                   "1,100,1\n"
                   "1,103,2\n"
                   "3,103,1\n"
                   "10,103,1\n"
                   "2,101,1\n"
                   "99,100,1\n"
                   "3,999,1\n"
                   "1,100,1\n");  // merged with the first row
}

SparkImportConfig Config(const std::string& interactions) {
  SparkImportConfig c;
  c.user_factors = kUsers;
  c.item_factors = kItems;
  c.interactions = interactions;
  c.alpha = 40.0f;
  c.regularization = 0.1f;
  return c;
}

double Dot(const std::vector<float>& a, const float* b) {
  double sum = 0;
  for (size_t d = 0; d < a.size(); ++d) sum += static_cast<double>(a[d]) * b[d];
  return sum;
}

TEST(ImportJob, PublishedVersionHoldsTheFilesVectorsSeenItemsAndPopularity) {
  const std::string db = TempPath("import-db");
  std::ostringstream log;
  absl::StatusOr<ImportedModel> model =
      AssembleSparkModel(Config(WriteInteractions("interactions.csv")), log);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->interaction_entries, 7);  // 8 rows, one pair twice
  EXPECT_EQ(model->entries_dropped, 2);
  EXPECT_EQ(model->unknown_users, 1);
  EXPECT_EQ(model->unknown_items, 1);
  EXPECT_THAT(log.str(), HasSubstr("2 dropped (1 users not in the user factors, 1 items"));
  // Assembling writes nothing.
  EXPECT_FALSE(std::filesystem::exists(db));

  absl::StatusOr<uint64_t> version = PublishImportedModel(db, *model);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 1u);

  auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kFollower);
  ASSERT_TRUE(store.ok()) << store.status();
  auto reader = (*store)->OpenVersion(1);
  ASSERT_TRUE(reader.ok()) << reader.status();
  const affinity::v1::ModelMetadata& m = (*reader)->metadata();
  EXPECT_EQ(m.algorithm(), "spark_als");
  EXPECT_EQ(m.dims(), 3);
  EXPECT_EQ(m.factors(), 3);
  EXPECT_EQ(m.users(), 5);
  EXPECT_EQ(m.items(), 6);
  EXPECT_EQ(m.nnz(), 5);
  EXPECT_EQ(m.alpha(), 40.0f);
  EXPECT_EQ(m.regularization(), 0.1f);
  EXPECT_EQ(m.weight_transform(), "raw");
  EXPECT_THAT(m.input_path(), HasSubstr("interactions.csv"));
  EXPECT_GT(m.input_bytes(), 0);
  EXPECT_EQ(m.parameters().at("user_factors"), kUsers);
  EXPECT_EQ(m.parameters().at("item_factors"), kItems);
  EXPECT_EQ(m.parameters().at("alpha"), "40");

  // Items in file order, bit-exact.
  std::vector<std::string> item_ids;
  for (const auto& [id, vec] : FileItems()) item_ids.push_back(id);
  EXPECT_EQ((*reader)->item_ids(), item_ids);
  std::vector<float> items(6 * 3);
  ASSERT_TRUE((*reader)->ReadItemFactors(absl::MakeSpan(items)).ok());
  for (size_t i = 0; i < FileItems().size(); ++i) {
    EXPECT_THAT(std::vector<float>(items.begin() + 3 * i, items.begin() + 3 * i + 3),
                ElementsAreArray(FileItems()[i].second))
        << FileItems()[i].first;
  }

  // Users bit-exact, their scores <u, i> those of the file vectors, their
  // seen items those of the interactions (unknown ones dropped).
  const std::map<std::string, std::vector<uint32_t>> seen = {
      {"3", {3}}, {"1", {0, 3}}, {"4", {}}, {"10", {3}}, {"2", {1}}};
  for (const auto& [id, vec] : FileUsers()) {
    absl::StatusOr<storage::UserRecord> user = (*reader)->GetUser(id);
    ASSERT_TRUE(user.ok()) << id << ": " << user.status();
    EXPECT_THAT(user->factors, ElementsAreArray(vec)) << id;
    EXPECT_EQ(user->seen, seen.at(id)) << id;
    for (size_t i = 0; i < FileItems().size(); ++i) {
      EXPECT_EQ(Dot(user->factors, items.data() + 3 * i),
                Dot(vec, FileItems()[i].second.data()))
          << id << " x " << FileItems()[i].first;
    }
  }
  EXPECT_EQ((*reader)->GetUser("99").status().code(), absl::StatusCode::kNotFound);
  // 103 (3 users), then 100 and 101 (1 each, file order), then the rest.
  EXPECT_THAT((*reader)->popular_items(), ElementsAre(3, 0, 1, 2, 4, 5));
}

TEST(ImportJob, WithoutInteractionsNoSeenItemsAndFileOrderPopularity) {
  const std::string db = TempPath("import-plain-db");
  std::ostringstream log;
  absl::StatusOr<ImportedModel> model = AssembleSparkModel(Config(""), log);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_THAT(log.str(), HasSubstr("no interactions"));
  ASSERT_TRUE(PublishImportedModel(db, *model).ok());
  auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kFollower);
  ASSERT_TRUE(store.ok()) << store.status();
  auto reader = (*store)->OpenVersion(1);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->metadata().nnz(), 0);
  EXPECT_EQ((*reader)->metadata().input_path(), "");
  EXPECT_FALSE((*reader)->metadata().parameters().contains("interactions"));
  EXPECT_THAT((*reader)->popular_items(), ElementsAre(0, 1, 2, 3, 4, 5));
  for (const auto& [id, vec] : FileUsers()) {
    absl::StatusOr<storage::UserRecord> user = (*reader)->GetUser(id);
    ASSERT_TRUE(user.ok()) << id;
    EXPECT_THAT(user->seen, IsEmpty()) << id;
    EXPECT_THAT(user->factors, ElementsAreArray(vec)) << id;
  }
}

TEST(ImportJob, BadInputPublishesNothing) {
  const std::string db = TempPath("import-bad-db");
  std::ostringstream log;
  // A first, good version.
  absl::StatusOr<ImportedModel> good = AssembleSparkModel(Config(""), log);
  ASSERT_TRUE(good.ok()) << good.status();
  ASSERT_TRUE(PublishImportedModel(db, *good).ok());

  auto expect_refused = [&](const SparkImportConfig& config, const std::string& message) {
    absl::StatusOr<ImportedModel> model = AssembleSparkModel(config, log);
    ASSERT_FALSE(model.ok()) << message;
    EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_THAT(model.status().message(), HasSubstr(message));
  };
  // Item dims differ from the user dims.
  SparkImportConfig ragged = Config("");
  ragged.item_factors =
      std::filesystem::path(WriteFile("items2/part-00000", "{\"id\":1,\"features\":[1,2]}\n"))
          .parent_path();
  expect_refused(ragged, absl::StrCat("item factors (", ragged.item_factors,
                                      ") have 2 dims, expected 3 like the user factors (",
                                      kUsers, ")"));
  // A malformed interactions row.
  const std::string bad_rows = WriteFile("bad.csv", "user,item,weight\n1,100,1\n2,101,nan\n");
  expect_refused(Config(bad_rows), bad_rows + ":3:");
  // A malformed factor row.
  SparkImportConfig bad_users = Config("");
  bad_users.user_factors = WriteFile("users-bad/part-00000",
                                     "{\"id\":1,\"features\":[1,2,3]}\n{\"id\":2}\n");
  expect_refused(bad_users, bad_users.user_factors + ":2: missing \"features\"");
  // Unusable fold-in parameters.
  SparkImportConfig bad_alpha = Config("");
  bad_alpha.alpha = -1;
  expect_refused(bad_alpha, "alpha: got -1, expected a finite value >= 0");
  SparkImportConfig bad_reg = Config("");
  bad_reg.regularization = std::nanf("");
  expect_refused(bad_reg, "regularization: got nan");

  auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kFollower);
  ASSERT_TRUE(store.ok()) << store.status();
  auto versions = (*store)->ListVersions();
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 1u);
  EXPECT_EQ((*versions)[0].version, 1u);
}

}  // namespace
}  // namespace affinity
