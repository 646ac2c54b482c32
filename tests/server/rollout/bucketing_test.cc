// The bucket function against the test vectors published in
// server/README.md (computed there with Python's hashlib), its uniformity,
// and the arm layout: ranges, validation, and which units move when a
// treatment is resized.
#include "server/rollout/bucketing.h"

#include <array>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"

namespace affinity::server::rollout {
namespace {

constexpr int kUnits = 100000;

struct Vector {
  std::string salt;
  std::string unit_id;
  uint32_t bucket = 0;
  int line = 0;
};

// A table cell: `text` between backticks is the text itself, *(empty)* is
// the empty string.
bool ParseCell(absl::string_view cell, std::string* out) {
  cell = absl::StripAsciiWhitespace(cell);
  if (cell == "*(empty)*") {
    out->clear();
    return true;
  }
  if (cell.size() < 2 || cell.front() != '`' || cell.back() != '`') return false;
  *out = std::string(cell.substr(1, cell.size() - 2));
  return true;
}

// The rows of the first table after the "A/B routing: the bucket function"
// heading of server/README.md.
std::vector<Vector> ReadmeVectors() {
  const std::string path = "server/README.md";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path << " from the runfiles";
  std::vector<Vector> vectors;
  std::string line;
  int number = 0;
  bool in_section = false;
  bool in_table = false;
  while (std::getline(in, line)) {
    ++number;
    if (!in_section) {
      in_section = line == "## A/B routing: the bucket function";
      continue;
    }
    if (!in_table) {
      if (absl::StartsWith(line, "| salt | unit id | bucket |")) {
        in_table = true;
        std::getline(in, line);  // the |---| row
        ++number;
      }
      continue;
    }
    if (!absl::StartsWith(line, "|")) break;
    std::vector<absl::string_view> cells = absl::StrSplit(line, '|');
    // "| a | b | c |" splits into "", a, b, c, "".
    EXPECT_EQ(cells.size(), 5u) << path << ":" << number << ": " << line;
    if (cells.size() != 5) continue;
    Vector v;
    v.line = number;
    EXPECT_TRUE(ParseCell(cells[1], &v.salt)) << path << ":" << number;
    EXPECT_TRUE(ParseCell(cells[2], &v.unit_id)) << path << ":" << number;
    EXPECT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(cells[3]), &v.bucket))
        << path << ":" << number;
    vectors.push_back(v);
  }
  EXPECT_TRUE(in_table) << path << ": no bucket test vector table";
  return vectors;
}

TEST(RolloutBucketTest, MatchesEveryVectorInTheReadme) {
  const std::vector<Vector> vectors = ReadmeVectors();
  ASSERT_GE(vectors.size(), 8u);
  bool empty_salt = false, utf8_id = false, long_id = false;
  for (const Vector& v : vectors) {
    EXPECT_EQ(RolloutBucket(v.salt, v.unit_id), v.bucket)
        << "server/README.md:" << v.line << ": salt \"" << v.salt << "\", unit id \""
        << v.unit_id << "\"";
    empty_salt |= v.salt.empty();
    for (char c : v.unit_id) utf8_id |= static_cast<unsigned char>(c) >= 0x80;
    long_id |= v.unit_id.size() >= 100;
  }
  EXPECT_TRUE(empty_salt) << "the table needs a row with an empty salt";
  EXPECT_TRUE(utf8_id) << "the table needs a row with a non-ASCII UTF-8 unit id";
  EXPECT_TRUE(long_id) << "the table needs a row with a unit id of 100+ bytes";
}

TEST(RolloutBucketTest, SaltAndSeparatorArePartOfTheInput) {
  // Known values (server/README.md): the same unit under two salts.
  EXPECT_EQ(RolloutBucket("exp-2026-11-ranker", "42"), 8224u);
  EXPECT_EQ(RolloutBucket("", "42"), 810u);
  // The "/" is hashed between salt and unit: only the concatenation counts.
  EXPECT_EQ(RolloutBucket("a/b", "c"), RolloutBucket("a", "b/c"));
  EXPECT_NE(RolloutBucket("ab", "c"), RolloutBucket("a", "bc"));
}

TEST(RolloutBucketTest, TenthsAreUniformOverManyIds) {
  std::array<int, 10> tenths{};
  std::array<int, 10> other_salt{};
  int same_tenth = 0;
  for (int i = 0; i < kUnits; ++i) {
    const std::string id = absl::StrCat("user-", i);
    const uint32_t bucket = RolloutBucket("exp-2026-11-ranker", id);
    ASSERT_LT(bucket, kBuckets);
    const uint32_t other = RolloutBucket("homepage-v13", id);
    ++tenths[bucket / 1000];
    ++other_salt[other / 1000];
    same_tenth += bucket / 1000 == other / 1000;
  }
  // Each tenth holds 10% of the ids within 0.5 points: 9,500..10,500.
  for (int t = 0; t < 10; ++t) {
    EXPECT_NEAR(tenths[t], kUnits / 10, kUnits / 200) << "tenth " << t;
    EXPECT_NEAR(other_salt[t], kUnits / 10, kUnits / 200) << "tenth " << t;
  }
  // Another salt reshuffles: an id keeps its tenth only by chance (10%).
  EXPECT_NEAR(same_tenth, kUnits / 10, kUnits / 200);
}

ArmLayout Layout(std::vector<ArmShare> arms) {
  absl::StatusOr<ArmLayout> layout = ArmLayout::Create(arms);
  EXPECT_TRUE(layout.ok()) << layout.status();
  return layout.ok() ? *std::move(layout)
                     : *ArmLayout::Create({ArmShare{"control", kBuckets}});
}

TEST(ArmLayoutTest, TreatmentsTakeTheTopInDeclaredOrder) {
  const ArmLayout two = Layout({{"control", 9000}, {"treatment", 1000}});
  ASSERT_EQ(two.ranges().size(), 2u);
  EXPECT_EQ(two.ranges()[0].begin, 0u);
  EXPECT_EQ(two.ranges()[0].end, 9000u);
  EXPECT_EQ(two.ranges()[1].begin, 9000u);
  EXPECT_EQ(two.ranges()[1].end, 10000u);
  EXPECT_EQ(two.ArmForBucket(0), "control");
  EXPECT_EQ(two.ArmForBucket(8999), "control");
  EXPECT_EQ(two.ArmForBucket(9000), "treatment");
  EXPECT_EQ(two.ArmForBucket(9999), "treatment");
  EXPECT_EQ(two.ArmIndexForBucket(10000 + 9000), 1u);  // modulo kBuckets

  const ArmLayout three = Layout({{"v12", 8500}, {"v13", 1000}, {"v14", 0}, {"v15", 500}});
  ASSERT_EQ(three.ranges().size(), 4u);
  EXPECT_EQ(three.ranges()[0].end, 8500u);
  EXPECT_EQ(three.ranges()[1].begin, 8500u);
  EXPECT_EQ(three.ranges()[1].end, 9500u);
  EXPECT_EQ(three.ranges()[2].begin, three.ranges()[2].end);  // 0 bp: empty
  EXPECT_EQ(three.ranges()[3].begin, 9500u);
  EXPECT_EQ(three.ranges()[3].end, 10000u);
  for (uint32_t b = 0; b < kBuckets; ++b) {
    ASSERT_NE(three.ArmIndexForBucket(b), 2u) << b;
  }
  EXPECT_EQ(three.ArmForBucket(9499), "v13");
  EXPECT_EQ(three.ArmForBucket(9500), "v15");

  const ArmLayout all_treatment = Layout({{"control", 0}, {"treatment", 10000}});
  EXPECT_EQ(all_treatment.ArmForBucket(0), "treatment");
}

TEST(ArmLayoutTest, RejectsBadDeclarations) {
  absl::Status s = ArmLayout::Create({}).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  s = ArmLayout::Create({{"control", 9000}, {"", 1000}}).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "arms[1]")) << s;
  s = ArmLayout::Create({{"control", 9000}, {"control", 1000}}).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "arms[1] \"control\"")) << s;
  s = ArmLayout::Create({{"control", 9000}, {"treatment", 2000}}).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "add up to 11000, expected 10000")) << s;
  s = ArmLayout::Create({{"control", 4294967295u}, {"treatment", 10001}}).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
}

// Arms of kUnits synthetic users under `layout`.
std::vector<std::string> Assign(const ArmLayout& layout) {
  std::vector<std::string> arms;
  arms.reserve(kUnits);
  for (int i = 0; i < kUnits; ++i) {
    arms.push_back(layout.ArmForBucket(
        RolloutBucket("exp-2026-11-ranker", absl::StrCat("user-", i))));
  }
  return arms;
}

int CountOf(const std::vector<std::string>& arms, absl::string_view arm) {
  int n = 0;
  for (const std::string& a : arms) n += a == arm;
  return n;
}

TEST(ArmLayoutTest, GrowingTreatmentOnlyTakesFromControlAndShrinkingGivesBack) {
  const std::vector<std::string> at10 = Assign(Layout({{"control", 9000}, {"treatment", 1000}}));
  const std::vector<std::string> at20 = Assign(Layout({{"control", 8000}, {"treatment", 2000}}));
  const std::vector<std::string> back = Assign(Layout({{"control", 9000}, {"treatment", 1000}}));

  EXPECT_NEAR(CountOf(at10, "treatment"), kUnits / 10, kUnits / 200);
  EXPECT_NEAR(CountOf(at20, "treatment"), kUnits / 5, kUnits / 200);
  int moved = 0;
  for (int i = 0; i < kUnits; ++i) {
    // 10% -> 20%: treatment keeps everyone; only control units move.
    if (at10[i] == "treatment") {
      ASSERT_EQ(at20[i], "treatment") << "user-" << i;
    } else if (at20[i] == "treatment") {
      ++moved;
    }
    // 20% -> 10%: exactly the original assignment again.
    ASSERT_EQ(back[i], at10[i]) << "user-" << i;
  }
  EXPECT_EQ(moved, CountOf(at20, "treatment") - CountOf(at10, "treatment"));
  EXPECT_NEAR(moved, kUnits / 10, kUnits / 200);
}

TEST(ArmLayoutTest, ResizingTheFirstTreatmentLeavesLaterArmsAlone) {
  const std::vector<std::string> before =
      Assign(Layout({{"v12", 8500}, {"v13", 1000}, {"v14", 500}}));
  const std::vector<std::string> after =
      Assign(Layout({{"v12", 7500}, {"v13", 2000}, {"v14", 500}}));
  for (int i = 0; i < kUnits; ++i) {
    ASSERT_EQ(before[i] == "v14", after[i] == "v14") << "user-" << i;
    if (before[i] != after[i]) {
      ASSERT_EQ(before[i], "v12") << "user-" << i;
      ASSERT_EQ(after[i], "v13") << "user-" << i;
    }
  }
}

}  // namespace
}  // namespace affinity::server::rollout
