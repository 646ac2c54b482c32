// `affinity-train nightly` end to end on planted data written by the test:
// idempotence, the gate refusing a worse candidate (and --force), the
// held-out interactions of the comparison being seen by neither model, the
// refit, retention, and explicit models gated on RMSE.
#include "trainer/nightly/nightly_job.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "storage/model_store.h"

namespace affinity {
namespace {

using ::affinity::v1::GateRecord;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using storage::ModelStore;

std::string TempPath(const std::string& name) {
  return absl::StrCat(getenv("TEST_TMPDIR"), "/", name);
}

struct Row {
  int user;
  int item;
  int weight;
  int64_t timestamp;
};

// Users in 6 taste groups, each with its own block of 60 items; 20
// interactions per user on days 1..20 (timestamp = day), weights 3..5 in the
// user's block (ratings 1..2 for a few out-of-block items).
std::vector<Row> PlantedRows(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Row> rows;
  const int users = 480, groups = 6, block = 60;
  for (int u = 0; u < users; ++u) {
    const int g = u % groups;
    std::set<int> items;
    for (int day = 1; day <= 20; ++day) {
      int item;
      int weight;
      do {
        if (rng() % 10 == 0) {
          item = static_cast<int>(rng() % (groups * block));
          weight = 1 + static_cast<int>(rng() % 2);
        } else {
          item = g * block + static_cast<int>(rng() % block);
          weight = 3 + static_cast<int>(rng() % 3);
        }
      } while (!items.insert(item).second);
      rows.push_back({u, item, weight, day});
    }
  }
  return rows;
}

// Writes the rows with timestamp <= last_day (all when last_day is 0).
std::string WriteRows(const std::string& name, const std::vector<Row>& rows, int64_t last_day,
                      bool with_timestamps = true) {
  const std::string path = TempPath(name);
  std::ofstream out(path);
  out << (with_timestamps ? "user,item,weight,timestamp\n" : "user,item,weight\n");
  for (const Row& r : rows) {
    if (last_day > 0 && r.timestamp > last_day) continue;
    out << "u" << r.user << ",i" << r.item << "," << r.weight;
    if (with_timestamps) out << "," << r.timestamp;
    out << "\n";
  }
  return path;
}

NightlyConfig Config(const std::string& input, const std::string& db) {
  NightlyConfig c;
  TrainingJobConfig& t = c.training;
  t.input = input;
  t.db = db;
  t.als.factors = 16;
  t.als.iterations = 8;
  t.als.regularization = 0.05f;
  t.als.threads = 2;
  t.holdout.test_fraction = 0.2;
  t.progress_eval_users = 0;
  t.eval_users = 0;  // every user: the counts below are exact
  t.puresvd.factors = 0;  // no PureSVD column: faster
  t.parameters = {{"factors", "16"}, {"iterations", "8"}, {"regularization", "0.05"},
                  {"solver", "cg"},  {"alpha", "1"},      {"cg_steps", "3"},
                  {"seed", "1"},     {"weight", "raw"}};
  return c;
}

void SetIterations(NightlyConfig* c, int iterations, int factors) {
  c->training.als.iterations = iterations;
  c->training.als.factors = factors;
  for (auto& [name, value] : c->training.parameters) {
    if (name == "iterations") value = absl::StrCat(iterations);
    if (name == "factors") value = absl::StrCat(factors);
  }
}

NightlyResult RunNightly(const NightlyConfig& config) {
  std::ostringstream log;
  absl::StatusOr<NightlyResult> result = RunNightlyJob(config, log);
  EXPECT_TRUE(result.ok()) << result.status() << "\n" << log.str();
  return result.ok() ? *std::move(result) : NightlyResult();
}

std::unique_ptr<ModelStore> Open(const std::string& db) {
  auto store = ModelStore::Open(db, ModelStore::Mode::kReadWrite);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

std::vector<uint64_t> Versions(const std::string& db) {
  auto store = ModelStore::Open(db, ModelStore::Mode::kFollower);
  auto versions = (*store)->ListVersions();
  std::vector<uint64_t> out;
  for (const auto& v : *versions) out.push_back(v.version);
  return out;
}

affinity::v1::ModelMetadata Metadata(const std::string& db, uint64_t version) {
  auto store = ModelStore::Open(db, ModelStore::Mode::kFollower);
  auto versions = (*store)->ListVersions();
  for (const auto& v : *versions) {
    if (v.version == version) return v.metadata;
  }
  ADD_FAILURE() << "no version " << version;
  return {};
}

uint64_t Live(const std::string& db) {
  auto store = ModelStore::Open(db, ModelStore::Mode::kFollower);
  return (*store)->LiveVersion().value_or(0);
}

TEST(NightlyJob, SameInputPublishesOnceAndAChangedParameterOrByteAgain) {
  const std::vector<Row> rows = PlantedRows(1);
  const std::string input = WriteRows("same.csv", rows, 15);
  const std::string db = TempPath("same-db");
  NightlyConfig config = Config(input, db);
  NightlyResult first = RunNightly(config);
  EXPECT_EQ(first.outcome, NightlyOutcome::kPublished);
  EXPECT_EQ(first.version, 1u);
  EXPECT_EQ(first.report.gate().outcome(), GateRecord::FIRST);

  NightlyResult again = RunNightly(config);
  EXPECT_EQ(again.outcome, NightlyOutcome::kSkipped);
  EXPECT_EQ(again.version, 1u);
  EXPECT_THAT(again.summary, HasSubstr("skipped (unchanged input): version 1"));
  EXPECT_THAT(Versions(db), ElementsAre(1u));

  // One parameter changed: trained and compared again (no new data, so the
  // live version's recipe is retrained on the same split).
  SetIterations(&config, 9, 16);
  NightlyResult changed = RunNightly(config);
  EXPECT_NE(changed.outcome, NightlyOutcome::kSkipped);
  EXPECT_EQ(changed.version, 2u);
  EXPECT_THAT(changed.report.comparison(), HasSubstr("recipe"));
  EXPECT_EQ(RunNightly(config).outcome, NightlyOutcome::kSkipped);

  // One byte of the input changed (a weight 3 -> 4 somewhere).
  std::ifstream in(input);
  std::stringstream text;
  text << in.rdbuf();
  std::string content = text.str();
  const size_t at = content.find(",3,");
  ASSERT_NE(at, std::string::npos);
  content[at + 1] = '4';
  std::ofstream(input) << content;
  NightlyResult byte = RunNightly(config);
  EXPECT_NE(byte.outcome, NightlyOutcome::kSkipped);
  EXPECT_EQ(byte.version, 3u);
  EXPECT_NE(Metadata(db, 3).fingerprint(), Metadata(db, 2).fingerprint());
}

TEST(NightlyJob, GateRefusesAWorseCandidateAndForcePublishesIt) {
  const std::vector<Row> rows = PlantedRows(2);
  const std::string db = TempPath("gate-db");
  ASSERT_EQ(RunNightly(Config(WriteRows("gate1.csv", rows, 15), db)).version, 1u);

  NightlyConfig worse = Config(WriteRows("gate2.csv", rows, 0), db);
  SetIterations(&worse, 1, 2);
  NightlyResult gated = RunNightly(worse);
  EXPECT_EQ(gated.outcome, NightlyOutcome::kGated);
  EXPECT_EQ(gated.version, 2u);
  EXPECT_EQ(gated.report.gate().outcome(), GateRecord::FAILED);
  EXPECT_LT(gated.report.gate().difference(), -0.01);
  EXPECT_THAT(gated.summary, HasSubstr("gate FAILED by"));
  EXPECT_EQ(Live(db), 1u);  // the live version stays live
  affinity::v1::ModelMetadata stored = Metadata(db, 2);
  EXPECT_TRUE(stored.ineligible());
  EXPECT_EQ(stored.gate().live_version(), 1u);
  // An ineligible version may not take traffic, not even by a pin.
  EXPECT_TRUE(absl::IsFailedPrecondition(Open(db)->SetLiveVersion(2)));

  worse.force = true;
  NightlyResult forced = RunNightly(worse);
  EXPECT_EQ(forced.outcome, NightlyOutcome::kPublished);
  EXPECT_EQ(forced.version, 3u);
  EXPECT_EQ(forced.report.gate().outcome(), GateRecord::FORCED);
  EXPECT_FALSE(Metadata(db, 3).ineligible());
  EXPECT_EQ(Live(db), 3u);
}

TEST(NightlyJob, HeldOutInteractionsAreSeenByNeitherModel) {
  const std::vector<Row> rows = PlantedRows(3);
  for (bool with_timestamps : {true, false}) {
    SCOPED_TRACE(with_timestamps ? "by time" : "absent from the live data");
    const std::string db = TempPath(with_timestamps ? "held-db-t" : "held-db-n");
    const std::string night1 = WriteRows("held1.csv", rows, 15, with_timestamps);
    ASSERT_EQ(RunNightly(Config(night1, db)).version, 1u);
    EXPECT_EQ(Metadata(db, 1).data_max_timestamp(), with_timestamps ? 15 : 0);
    // Night 2 adds days 16..20 of the same users: exactly these rows are
    // held out (every user keeps days 1..15 for training).
    const std::string night2 = WriteRows("held2.csv", rows, 0, with_timestamps);
    int64_t new_rows = 0;
    for (const Row& r : rows) new_rows += r.timestamp > 15;
    NightlyResult result = RunNightly(Config(night2, db));
    EXPECT_EQ(static_cast<int64_t>(result.report.heldout_nnz()), new_rows);
    EXPECT_EQ(static_cast<int64_t>(result.report.nnz()),
              static_cast<int64_t>(rows.size()) - new_rows);
    EXPECT_EQ(result.report.gate().users_compared(), 480);
    EXPECT_THAT(result.report.comparison(),
                HasSubstr(with_timestamps ? "newer than live version 1's data (timestamp > 15)"
                                          : "absent from live version 1's data"));
    // Version 1 never saw them: its stored seen items hold days 1..15 only.
    auto store = ModelStore::Open(db, ModelStore::Mode::kFollower);
    auto v1 = (*store)->OpenVersion(1);
    ASSERT_TRUE(v1.ok());
    EXPECT_EQ((*v1)->GetUser("u0")->seen.size(), 15u);
  }
}

// Mean score of each user's held-out (day > 15) items under a version.
double MeanHeldOutScore(const std::string& db, uint64_t version, const std::vector<Row>& rows) {
  auto store = ModelStore::Open(db, ModelStore::Mode::kFollower);
  auto reader = (*store)->OpenVersion(version);
  const int dims = (*reader)->metadata().dims();
  std::vector<float> items((*reader)->item_ids().size() * dims);
  EXPECT_TRUE((*reader)->ReadItemFactors(absl::MakeSpan(items)).ok());
  double sum = 0;
  int n = 0;
  for (const Row& r : rows) {
    if (r.timestamp <= 15) continue;
    auto user = (*reader)->GetUser(absl::StrCat("u", r.user));
    auto item = (*reader)->ItemIndex(absl::StrCat("i", r.item));
    if (!user.ok() || !item.ok()) continue;
    float dot = 0;
    for (int d = 0; d < dims; ++d) dot += user->factors[d] * items[*item * dims + d];
    sum += dot;
    ++n;
  }
  return sum / std::max(n, 1);
}

TEST(NightlyJob, RefitPublishesVectorsThatSawTheHeldOutInteractions) {
  const std::vector<Row> rows = PlantedRows(4);
  const std::string night1 = WriteRows("refit1.csv", rows, 15);
  const std::string night2 = WriteRows("refit2.csv", rows, 0);
  const std::string refit_db = TempPath("refit-db"), split_db = TempPath("split-db");
  ASSERT_EQ(RunNightly(Config(night1, refit_db)).version, 1u);
  ASSERT_EQ(RunNightly(Config(night1, split_db)).version, 1u);
  // Both candidates must pass: this test is about what is published after.
  NightlyConfig with_refit = Config(night2, refit_db);
  with_refit.gate_tolerance = 1;
  NightlyResult refit = RunNightly(with_refit);
  NightlyConfig no_refit = Config(night2, split_db);
  no_refit.gate_tolerance = 1;
  no_refit.refit = false;
  NightlyResult split = RunNightly(no_refit);
  ASSERT_EQ(refit.outcome, NightlyOutcome::kPublished) << refit.summary;
  ASSERT_EQ(split.outcome, NightlyOutcome::kPublished);
  EXPECT_EQ(Metadata(refit_db, 2).trained_interactions(), static_cast<int64_t>(rows.size()));
  EXPECT_LT(Metadata(split_db, 2).trained_interactions(), static_cast<int64_t>(rows.size()));
  EXPECT_THAT(refit.report.trained_on(), HasSubstr("refit after the gate"));
  EXPECT_THAT(split.report.trained_on(), HasSubstr("--refit=false"));
  // Trained on them, the refit scores the held-out items clearly higher.
  const double with = MeanHeldOutScore(refit_db, 2, rows);
  const double without = MeanHeldOutScore(split_db, 2, rows);
  EXPECT_GT(with, without + 0.1) << with << " vs " << without;
}

TEST(NightlyJob, RetentionKeepsTheNewestAndEveryVersionTheRolloutNeeds) {
  const std::vector<Row> rows = PlantedRows(5);
  const std::string input = WriteRows("keep.csv", rows, 0);
  const std::string db = TempPath("keep-db");
  NightlyConfig config = Config(input, db);
  config.keep_versions = 2;
  config.force = true;  // same data every night: publish regardless
  ASSERT_EQ(RunNightly(config).version, 1u);
  SetIterations(&config, 7, 16);
  ASSERT_EQ(RunNightly(config).version, 2u);
  {
    // Pin version 1 as control and give version 2 a treatment arm.
    std::unique_ptr<ModelStore> store = Open(db);
    ASSERT_TRUE(store->SetLiveVersion(1).ok());
    affinity::v1::RolloutState state = *store->GetRollout();
    auto* arm = state.add_arms();
    arm->set_name("treatment");
    arm->set_version(2);
    arm->set_basis_points(1000);
    ASSERT_TRUE(store->UpdateRollout(state.revision(), state, {"test", "set", ""}).ok());
  }
  for (int iterations : {6, 5, 4}) {
    SetIterations(&config, iterations, 16);
    RunNightly(config);
  }
  // Newest two (4, 5), pinned live 1, treatment 2; 3 deleted.
  EXPECT_THAT(Versions(db), ElementsAre(1u, 2u, 4u, 5u));
  EXPECT_TRUE(absl::IsFailedPrecondition(Open(db)->DeleteVersion(2)));
}

TEST(NightlyJob, AnInputMuchSmallerThanTheLiveDataIsRefusedBeforeTraining) {
  const std::vector<Row> rows = PlantedRows(7);
  const std::string db = TempPath("shrink-db");
  ASSERT_EQ(RunNightly(Config(WriteRows("shrink1.csv", rows, 0), db)).version, 1u);
  // Days 1..5 of the same users: a quarter of the interactions.
  NightlyConfig truncated = Config(WriteRows("shrink2.csv", rows, 5), db);
  NightlyResult refused = RunNightly(truncated);
  EXPECT_EQ(refused.outcome, NightlyOutcome::kGated);
  EXPECT_EQ(refused.version, 0u);
  EXPECT_THAT(refused.summary, HasSubstr("--min_input_ratio=0.5"));
  EXPECT_THAT(Versions(db), ElementsAre(1u));
  truncated.force = true;
  EXPECT_EQ(RunNightly(truncated).version, 2u);
}

TEST(NightlyJob, ExplicitModelsAreGatedOnRmse) {
  const std::vector<Row> rows = PlantedRows(6);
  const std::string db = TempPath("explicit-db");
  NightlyConfig config = Config(WriteRows("explicit1.csv", rows, 15), db);
  config.training.als.solver = AlsSolver::kExplicit;
  for (auto& [name, value] : config.training.parameters) {
    if (name == "solver") value = "explicit";
  }
  ASSERT_EQ(RunNightly(config).version, 1u);
  config.training.input = WriteRows("explicit2.csv", rows, 0);
  NightlyResult result = RunNightly(config);
  EXPECT_EQ(result.report.gate().metric(), "rmse");
  EXPECT_GT(result.report.model_ratings().rmse(), 0);
  EXPECT_GT(result.report.live_ratings().rmse(), 0);
  EXPECT_GT(result.report.model_ratings().ratings_evaluated(), 0);
  EXPECT_TRUE(Metadata(db, 2).metrics().count("rmse"));
  EXPECT_TRUE(Metadata(db, 2).metrics().count("live.rmse"));
}

}  // namespace
}  // namespace affinity
