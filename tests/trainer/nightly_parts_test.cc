// The nightly job's parts on hand-made cases: the input hash and the
// fingerprint, the comparison splits, and the gate's decision.
#include <fstream>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "trainer/nightly/comparison_split.h"
#include "trainer/nightly/fingerprint.h"
#include "trainer/nightly/gate.h"

namespace affinity {
namespace {

using ::affinity::v1::GateRecord;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<uint32_t> Row(const CsrMatrix& m, int64_t r) {
  auto row = m.row(r).indices;
  return std::vector<uint32_t>(row.begin(), row.end());
}

TEST(Fingerprint, Sha256OfAFileMatchesTheStandardVector) {
  const std::string path = absl::StrCat(getenv("TEST_TMPDIR"), "/abc.txt");
  std::ofstream(path) << "abc";
  EXPECT_EQ(*Sha256OfFile(path),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(absl::IsNotFound(Sha256OfFile(path + ".missing").status()));
}

TEST(Fingerprint, EveryParameterAndTheInputChangeIt) {
  const std::map<std::string, std::string> base = {{"factors", "64"}, {"iterations", "15"}};
  const std::string f = ModelFingerprint("aa", base);
  EXPECT_EQ(f.size(), 64u);
  EXPECT_EQ(f, ModelFingerprint("aa", base));
  EXPECT_NE(f, ModelFingerprint("ab", base));
  auto changed = base;
  changed["iterations"] = "16";
  EXPECT_NE(f, ModelFingerprint("aa", changed));
  changed = base;
  changed["seed"] = "1";
  EXPECT_NE(f, ModelFingerprint("aa", changed));
  EXPECT_EQ(ShortFingerprint(f), f.substr(0, 12));
}

// 3 users x 4 items; timestamps aligned with the entries.
CsrMatrix Small() {
  return CsrMatrix(3, 4, {0, 3, 5, 7}, {0, 1, 3, 0, 2, 1, 2}, {1, 1, 1, 1, 1, 1, 1});
}

TEST(ComparisonSplit, NewerThanHoldsOutLaterEntriesOfComparableUsers) {
  const CsrMatrix m = Small();
  const std::vector<int64_t> ts = {5, 20, 30, 25, 26, 7, 30};
  // User 1's entries are all newer: nothing would be left to train on, so
  // they stay in training. User 2 is not known to the live version.
  ComparisonSplit s = SplitNewerThan(m, ts, 10, {true, true, false});
  EXPECT_THAT(Row(s.train, 0), ElementsAre(0u));
  EXPECT_THAT(Row(s.test, 0), ElementsAre(1u, 3u));
  EXPECT_THAT(Row(s.train, 1), ElementsAre(0u, 2u));
  EXPECT_TRUE(Row(s.test, 1).empty());
  EXPECT_THAT(Row(s.train, 2), ElementsAre(1u, 2u));
  EXPECT_EQ(s.test_users, 1);
  EXPECT_EQ(s.train.nnz() + s.test.nnz(), m.nnz());
}

TEST(ComparisonSplit, NotInHoldsOutPairsTheLiveVersionNeverSaw) {
  const CsrMatrix m = Small();
  const CsrMatrix known(3, 4, {0, 1, 3, 3}, {0, 0, 2}, {1, 1, 1});
  ComparisonSplit s = SplitNotIn(m, known, {true, true, true});
  EXPECT_THAT(Row(s.test, 0), ElementsAre(1u, 3u));
  EXPECT_TRUE(Row(s.test, 1).empty());
  // User 2: every pair is new, so none is held out.
  EXPECT_TRUE(Row(s.test, 2).empty());
  EXPECT_THAT(Row(s.train, 2), ElementsAre(1u, 2u));
  EXPECT_EQ(s.test_users, 1);
}

MetricComparison Compare(double candidate, double live, bool lower_is_better = false) {
  MetricComparison c;
  c.lower_is_better = lower_is_better;
  c.candidate = candidate;
  c.live = live;
  c.difference = candidate - live;
  c.ci_low = c.difference - 0.005;
  c.ci_high = c.difference + 0.005;
  c.compared = 1000;
  return c;
}

TEST(Gate, FailsOnlyBeyondTheTolerance) {
  GateOptions options{"ndcg_at_10", 0.01, false};
  EXPECT_EQ(DecideGate(Compare(0.345, 0.35), options, 3, "m").outcome(), GateRecord::PASSED);
  EXPECT_EQ(DecideGate(Compare(0.40, 0.35), options, 3, "m").outcome(), GateRecord::PASSED);
  const GateRecord failed = DecideGate(Compare(0.32, 0.35), options, 3, "m");
  EXPECT_EQ(failed.outcome(), GateRecord::FAILED);
  EXPECT_FALSE(GatePassed(failed));
  EXPECT_TRUE(failed.significant());
  EXPECT_THAT(DescribeGate(failed), HasSubstr("gate FAILED by 0.0200"));
  EXPECT_THAT(DescribeGate(failed), HasSubstr("beyond the noise"));
  EXPECT_EQ(GateSummary(failed), "failed by 0.0200");
  options.force = true;
  const GateRecord forced = DecideGate(Compare(0.32, 0.35), options, 3, "m");
  EXPECT_EQ(forced.outcome(), GateRecord::FORCED);
  EXPECT_TRUE(GatePassed(forced));
}

TEST(Gate, LowerIsBetterForRmse) {
  GateOptions options{"rmse", 0.01, false};
  EXPECT_TRUE(LowerIsBetter("rmse"));
  EXPECT_TRUE(LowerIsBetter("mae"));
  EXPECT_FALSE(LowerIsBetter("ndcg_at_10"));
  EXPECT_EQ(DecideGate(Compare(0.90, 0.95, true), options, 1, "m").outcome(),
            GateRecord::PASSED);
  EXPECT_EQ(DecideGate(Compare(0.955, 0.95, true), options, 1, "m").outcome(),
            GateRecord::PASSED);
  EXPECT_EQ(DecideGate(Compare(0.97, 0.95, true), options, 1, "m").outcome(),
            GateRecord::FAILED);
}

TEST(Gate, FirstAndNotComparable) {
  EXPECT_TRUE(GatePassed(FirstVersionGate("ndcg_at_10")));
  const GateRecord nothing = NotComparableGate({"ndcg_at_10", 0.01, false}, 4, "why");
  EXPECT_EQ(nothing.outcome(), GateRecord::NOT_COMPARABLE);
  EXPECT_FALSE(GatePassed(nothing));
  EXPECT_EQ(NotComparableGate({"ndcg_at_10", 0.01, true}, 4, "why").outcome(),
            GateRecord::FORCED);
}

}  // namespace
}  // namespace affinity
