// The training job end to end: planted structure is learned and beats the
// popularity baseline, bad input publishes nothing and leaves earlier
// versions intact, and the published version holds what was trained.
#include "trainer/training_job.h"

#include <fstream>
#include <random>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "storage/model_store.h"

namespace affinity {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  return absl::StrCat(getenv("TEST_TMPDIR"), "/", name);
}

// Users belong to one of `groups` taste groups; each group interacts with
// its own block of items (rank = groups), plus a few popular items that
// everybody touches. Returns the CSV path.
std::string WritePlantedInteractions(const std::string& name, int users, int items,
                                     int groups, int per_user, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::string path = TempPath(name);
  std::ofstream out(path);
  out << "user,item,weight\n";
  const int block = items / groups;
  for (int u = 0; u < users; ++u) {
    const int g = u % groups;
    std::uniform_int_distribution<int> in_block(g * block, (g + 1) * block - 1);
    for (int n = 0; n < per_user; ++n) {
      out << "u" << u << ",i" << in_block(rng) << "," << 1 + rng() % 3 << "\n";
    }
    out << "u" << u << ",i" << rng() % 3 << ",1\n";  // popular noise
  }
  return path;
}

TrainingJobConfig SmallConfig(const std::string& input, const std::string& db) {
  TrainingJobConfig c;
  c.input = input;
  c.db = db;
  c.als.factors = 16;
  c.als.iterations = 8;
  c.als.regularization = 0.05f;
  c.als.threads = 2;
  c.holdout.test_fraction = 0.2;
  c.progress_eval_users = 100;
  return c;
}

TEST(TrainingJob, PlantedStructureBeatsPopularityByWideMargin) {
  const std::string input = WritePlantedInteractions("planted.csv", 600, 400, 8, 30, 7);
  const std::string db = TempPath("planted-db");
  std::ostringstream log;
  auto report = RunTrainingJob(SmallConfig(input, db), log);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->users(), 600);
  EXPECT_GT(report->model().precision_at_k(), 2 * report->popularity().precision_at_k())
      << log.str();
  // Each user draws 30 times from a 50-item block (~23 distinct), ~5 of
  // which are held out: an oracle that knows the group but nothing more
  // picks 10 of the ~32 unseen block items and scores ~5/32 = 0.16.
  EXPECT_GT(report->model().precision_at_k(), 0.12) << log.str();
  EXPECT_EQ(report->iterations_size(), 8);
  EXPECT_TRUE(report->iterations(7).has_sampled());
  // Loss goes down over the run.
  EXPECT_LT(report->iterations(7).loss(), report->iterations(0).loss());
  EXPECT_THAT(log.str(), HasSubstr("iteration  8/8"));
  EXPECT_EQ(report->version(), 1u);

  // The published version holds every user and item with the trained
  // dimensions, and each user's seen items cover train and holdout.
  auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kFollower);
  ASSERT_TRUE(store.ok()) << store.status();
  auto model = (*store)->OpenVersion(1);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->metadata().users(), 600);
  EXPECT_EQ((*model)->metadata().dims(), 16);
  EXPECT_EQ((*model)->metadata().algorithm(), "implicit_als_cg");
  EXPECT_DOUBLE_EQ((*model)->metadata().metrics().at("precision_at_10"),
                   report->model().precision_at_k());
  auto user = (*model)->GetUser("u0");
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->factors.size(), 16u);
  EXPECT_GE(user->seen.size(), 20u);  // ~30 distinct block items + noise
}

TEST(TrainingJob, BadInputPublishesNothingAndKeepsEarlierVersions) {
  const std::string db = TempPath("bad-input-db");
  const std::string good = WritePlantedInteractions("good.csv", 100, 80, 4, 10, 3);
  std::ostringstream log;
  auto first = RunTrainingJob(SmallConfig(good, db), log);
  ASSERT_TRUE(first.ok()) << first.status();

  const std::string bad = TempPath("bad.csv");
  {
    std::ofstream out(bad);
    out << "user,item,weight\nu1,i1,1\nu2,i2,-3\n";
  }
  auto second = RunTrainingJob(SmallConfig(bad, db), log);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr(bad + ":3:"));

  auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kReadWrite);
  ASSERT_TRUE(store.ok()) << store.status();
  auto versions = (*store)->ListVersions();
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 1u);
  auto model = (*store)->OpenVersion((*versions)[0].version);
  ASSERT_TRUE(model.ok());
  EXPECT_TRUE((*model)->GetUser("u1").ok());
}

TEST(TrainingJob, NoPublishWritesNoStore) {
  const std::string input = WritePlantedInteractions("nopublish.csv", 50, 40, 2, 5, 1);
  TrainingJobConfig c = SmallConfig(input, "");
  c.publish = false;
  c.holdout.test_fraction = 0;
  c.metrics_json = TempPath("nopublish.json");
  std::ostringstream log;
  auto report = RunTrainingJob(c, log);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->version(), 0u);
  EXPECT_EQ(report->model().users_evaluated(), 0);  // --holdout=0: no evaluation
  std::ifstream json(c.metrics_json);
  std::stringstream text;
  text << json.rdbuf();
  for (const char* key : {"\"version\"", "\"users\"", "\"items\"", "\"nnz\"",
                          "\"seconds_per_iteration\"", "\"train_seconds\"",
                          "\"peak_rss_bytes\"", "\"precision_at_k\"", "\"popularity\""}) {
    EXPECT_THAT(text.str(), HasSubstr(key));
  }
}

TEST(TrainingJob, FailedSolvesAreReportedPerIteration) {
  // One rating per user and a regularization lost to float rounding: the
  // explicit solver's 2 x 2 systems are singular for many users.
  const std::string input = TempPath("singular.csv");
  {
    std::ofstream out(input);
    out << "user,item,rating\n";
    for (int u = 0; u < 200; ++u) out << "u" << u << ",i" << u % 7 << "," << 1 + u % 5 << "\n";
  }
  TrainingJobConfig c = SmallConfig(input, "");
  c.publish = false;
  c.holdout.test_fraction = 0;
  c.als.solver = AlsSolver::kExplicit;
  c.als.factors = 1;
  c.als.regularization = 1e-30f;
  c.als.iterations = 2;
  std::ostringstream log;
  auto report = RunTrainingJob(c, log);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->iterations_size(), 2);
  const double failed = report->iterations(0).failed_solves();
  EXPECT_GT(failed, 0);
  EXPECT_THAT(log.str(), HasSubstr("training iteration  1/2"));
  EXPECT_THAT(log.str(), HasSubstr(absl::StrCat(static_cast<int64_t>(failed),
                                                " rows failed to solve (kept their previous "
                                                "vectors)")));

  // A healthy run says nothing of the kind.
  c.als.regularization = 0.05f;
  std::ostringstream healthy;
  report = RunTrainingJob(c, healthy);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->iterations(0).failed_solves(), 0);
  EXPECT_THAT(healthy.str(), ::testing::Not(HasSubstr("failed to solve")));
}

TEST(TrainingJob, ExplicitModelPublishesBiasFoldedVectors) {
  const std::string input = WritePlantedInteractions("explicit.csv", 80, 60, 3, 8, 5);
  TrainingJobConfig c = SmallConfig(input, TempPath("explicit-db"));
  c.als.solver = AlsSolver::kExplicit;
  std::ostringstream log;
  auto report = RunTrainingJob(c, log);
  ASSERT_TRUE(report.ok()) << report.status();
  auto store = storage::ModelStore::Open(c.db, storage::ModelStore::Mode::kFollower);
  ASSERT_TRUE(store.ok());
  auto model = (*store)->OpenVersion(report->version());
  ASSERT_TRUE(model.ok());
  EXPECT_EQ((*model)->metadata().algorithm(), "explicit_als");
  EXPECT_EQ((*model)->metadata().dims(), 16 + 2);
}

}  // namespace
}  // namespace affinity
