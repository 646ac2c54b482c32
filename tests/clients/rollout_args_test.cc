// `affinity rollout` arguments: fractions in their three spellings and the
// per-subcommand flag table.
#include "tools/cli/rollout_args.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace affinity::cli {
namespace {

using ::testing::HasSubstr;

TEST(ParseFractionTest, AcceptsDecimalPercentAndBasisPoints) {
  EXPECT_EQ(ParseFraction("0.1", "--fraction").value_or(-1), 1000);
  EXPECT_EQ(ParseFraction("10%", "--fraction").value_or(-1), 1000);
  EXPECT_EQ(ParseFraction("1000bp", "--fraction").value_or(-1), 1000);
  EXPECT_EQ(ParseFraction("12.5%", "--fraction").value_or(-1), 1250);
  EXPECT_EQ(ParseFraction("0.0001", "--fraction").value_or(-1), 1);
  EXPECT_EQ(ParseFraction(".25", "--fraction").value_or(-1), 2500);
  EXPECT_EQ(ParseFraction("0", "--fraction").value_or(-1), 0);
  EXPECT_EQ(ParseFraction("0%", "--fraction").value_or(-1), 0);
  EXPECT_EQ(ParseFraction("1", "--fraction").value_or(-1), 10000);
  EXPECT_EQ(ParseFraction("100%", "--fraction").value_or(-1), 10000);
  EXPECT_EQ(ParseFraction("10000bp", "--fraction").value_or(-1), 10000);
  // 0.3 * 10000 is not exactly 3000 in binary floating point.
  EXPECT_EQ(ParseFraction("0.3", "--fraction").value_or(-1), 3000);
  EXPECT_EQ(ParseFraction("0.07", "--fraction").value_or(-1), 700);
}

TEST(ParseFractionTest, RefusesOtherTextNamingTheFlag) {
  for (const char* bad : {"", "abc", "-0.1", "10 %x", "%", "bp", "nan", "inf", "0x10", "1/2",
                          "1e-2", "+0.1", "0.1.2", "."}) {
    absl::StatusOr<int32_t> parsed = ParseFraction(bad, "--fraction");
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_TRUE(absl::IsInvalidArgument(parsed.status()));
    EXPECT_THAT(parsed.status().message(), HasSubstr("--fraction: \""));
    EXPECT_THAT(parsed.status().message(), HasSubstr("expected e.g. 0.1, 10% or 1000bp"));
  }
  for (const char* too_much : {"1.5", "101%", "10001bp"}) {
    absl::StatusOr<int32_t> parsed = ParseFraction(too_much, "--canary_fraction");
    ASSERT_FALSE(parsed.ok()) << too_much;
    EXPECT_THAT(parsed.status().message(), HasSubstr("--canary_fraction"));
    EXPECT_THAT(parsed.status().message(), HasSubstr("more than everything"));
  }
  for (const char* fine : {"0.00001", "12.345%", "2.5bp"}) {
    absl::StatusOr<int32_t> parsed = ParseFraction(fine, "--fraction");
    ASSERT_FALSE(parsed.ok()) << fine;
    EXPECT_THAT(parsed.status().message(), HasSubstr("not a whole number of basis points"));
  }
}

TEST(ParseShareTest, KeepsFractionsFinerThanABasisPoint) {
  EXPECT_DOUBLE_EQ(ParseShare("0.5%", "--d").value_or(-1), 0.005);
  EXPECT_DOUBLE_EQ(ParseShare("0.00125", "--d").value_or(-1), 0.00125);
  EXPECT_DOUBLE_EQ(ParseShare("25bp", "--d").value_or(-1), 0.0025);
}

absl::StatusOr<RolloutArgs> Parse(std::vector<std::string> args) { return ParseRolloutArgs(args); }

TEST(ParseRolloutArgsTest, ReadsTargetsAndTheSubcommandsFlags) {
  absl::StatusOr<RolloutArgs> set = Parse(
      {"set", "--db=/a,/b", "--arm=treatment", "--version=3", "--fraction=10%", "--reason=try it"});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->subcommand, "set");
  EXPECT_EQ(set->db, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_TRUE(set->admin.empty());
  EXPECT_EQ(set->arm.value_or(""), "treatment");
  EXPECT_EQ(set->version.value_or(0), 3u);
  EXPECT_EQ(set->fraction_bp.value_or(-1), 1000);
  EXPECT_EQ(set->reason, "try it");

  absl::StatusOr<RolloutArgs> policy =
      Parse({"policy", "--admin=h1:1,h2:2", "--mode=canary", "--canary_fraction=500bp",
             "--auto_promote_min_impressions=1000", "--auto_promote_max_ctr_drop=0.5%"});
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->admin, (std::vector<std::string>{"h1:1", "h2:2"}));
  EXPECT_EQ(policy->mode, affinity::v1::NewVersionPolicy::CANARY);
  EXPECT_EQ(policy->canary_fraction_bp.value_or(-1), 500);
  EXPECT_EQ(policy->auto_promote_min_impressions.value_or(0), 1000);
  EXPECT_DOUBLE_EQ(policy->auto_promote_max_ctr_drop.value_or(-1), 0.005);

  absl::StatusOr<RolloutArgs> history = Parse({"history", "--db=/a", "--limit=5"});
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(history->limit, 5);
  EXPECT_TRUE(Parse({"--help"})->help);
}

TEST(ParseRolloutArgsTest, RefusesWhatDoesNotFitNamingIt) {
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const Case cases[] = {
      {{}, "missing subcommand"},
      {{"frobnicate", "--db=/a"}, "unknown rollout command \"frobnicate\""},
      {{"show"}, "needs --db=DIR[,DIR...] or --admin"},
      {{"show", "--db=/a", "--admin=h:1"}, "not both"},
      {{"show", "--db=/a,/a"}, "--db: \"/a\" is given twice"},
      {{"show", "--db=/a,,/b"}, "--db: empty entry"},
      {{"show", "--db=/a", "--db=/b"}, "--db is given twice"},
      {{"show", "--db=/a", "extra"}, "unexpected argument \"extra\""},
      {{"promote", "--db=/a", "--fraction=10%"}, "--fraction does not apply to rollout promote"},
      {{"status", "--admin=h:1"}, "--admin does not apply to rollout status"},
      {{"show", "--db=/a", "--colour=red"}, "unknown flag --colour"},
      {{"set", "--db=/a", "--version=3"}, "--arm: set needs --arm=NAME"},
      {{"set", "--db=/a", "--arm=t", "--version=x"}, "--version: \"x\""},
      {{"set", "--db=/a", "--arm=t", "--version"}, "--version needs a value"},
      {{"set", "--db=/a", "--arm=t", "--fraction=lots"}, "--fraction: \"lots\""},
      {{"policy", "--db=/a"}, "--mode: policy needs --mode=control|canary"},
      {{"policy", "--db=/a", "--mode=ab"}, "--mode: \"ab\", expected control or canary"},
      {{"policy", "--db=/a", "--mode=canary", "--auto_promote_min_impressions=10"},
       "--auto_promote_max_ctr_drop: auto-promotion needs both"},
      {{"policy", "--db=/a", "--mode=canary", "--auto_promote_min_impressions=0",
        "--auto_promote_max_ctr_drop=0.01"},
       "--auto_promote_min_impressions: \"0\""},
      {{"policy", "--db=/a", "--mode=canary", "--auto_promote_min_impressions=10",
        "--auto_promote_max_ctr_drop=0.01", "--no_auto_promote"},
       "--no_auto_promote: contradicts"},
      {{"history", "--db=/a", "--limit=0"}, "--limit: \"0\", expected 1..1000"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<RolloutArgs> parsed = Parse(c.args);
    ASSERT_FALSE(parsed.ok()) << c.message;
    EXPECT_TRUE(absl::IsInvalidArgument(parsed.status()));
    EXPECT_THAT(parsed.status().message(), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace affinity::cli
