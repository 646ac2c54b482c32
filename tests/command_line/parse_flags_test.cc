// ParseFlags: the accepted forms of a command line and the errors, each
// naming the flag, for flags defined in this file.
#include "tools/command_line/parse_flags.h"

#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "gtest/gtest.h"

ABSL_FLAG(int, count, 1, "An integer.");
ABSL_FLAG(double, ratio, 0.5, "A number.");
ABSL_FLAG(bool, verbose, false, "A boolean.");
ABSL_FLAG(std::string, name, "", "A string.");
ABSL_FLAG(std::string, iterations, "", "A string with a longer name.");

namespace affinity::command_line {
namespace {

const Program kProgram{"prog", "usage", {"tests/command_line/"}, {{"name", "all"}}};

class ParseFlagsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::SetFlag(&FLAGS_count, 1);
    absl::SetFlag(&FLAGS_ratio, 0.5);
    absl::SetFlag(&FLAGS_verbose, false);
    absl::SetFlag(&FLAGS_name, "");
  }

  // Parses "prog" followed by `words`.
  absl::StatusOr<std::vector<std::string>> Parse(std::vector<std::string> words,
                                                 bool* usage = nullptr) {
    words.insert(words.begin(), "prog");
    std::vector<char*> argv;
    for (std::string& word : words) argv.push_back(word.data());
    absl::StatusOr<ParsedArgs> parsed =
        ParseFlags(kProgram, static_cast<int>(argv.size()), argv.data());
    if (!parsed.ok()) return parsed.status();
    if (usage != nullptr) *usage = parsed->usage_requested;
    return std::vector<std::string>(parsed->positional.begin(), parsed->positional.end());
  }

  // The message of the error `words` give.
  std::string Error(std::vector<std::string> words) {
    absl::StatusOr<std::vector<std::string>> parsed = Parse(std::move(words));
    EXPECT_FALSE(parsed.ok());
    if (parsed.ok()) return "";
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(parsed.status().message());
  }
};

TEST_F(ParseFlagsTest, SetsFlagsAndKeepsPositionalWordsInOrder) {
  auto parsed = Parse({"run", "--count=3", "-ratio=0.25", "--name", "a b", "--verbose", "now"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, (std::vector<std::string>{"prog", "run", "now"}));
  EXPECT_EQ(absl::GetFlag(FLAGS_count), 3);
  EXPECT_EQ(absl::GetFlag(FLAGS_ratio), 0.25);
  EXPECT_EQ(absl::GetFlag(FLAGS_name), "a b");
  EXPECT_TRUE(absl::GetFlag(FLAGS_verbose));
}

TEST_F(ParseFlagsTest, BooleanForms) {
  ASSERT_TRUE(Parse({"--verbose=true"}).ok());
  EXPECT_TRUE(absl::GetFlag(FLAGS_verbose));
  ASSERT_TRUE(Parse({"--noverbose"}).ok());
  EXPECT_FALSE(absl::GetFlag(FLAGS_verbose));
  ASSERT_TRUE(Parse({"--verbose", "word"}).ok());  // a boolean takes no separate value
  EXPECT_TRUE(absl::GetFlag(FLAGS_verbose));
}

TEST_F(ParseFlagsTest, DoubleDashEndsTheFlags) {
  auto parsed = Parse({"--count=2", "--", "--count=5", "-x"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, (std::vector<std::string>{"prog", "--count=5", "-x"}));
  EXPECT_EQ(absl::GetFlag(FLAGS_count), 2);
}

TEST_F(ParseFlagsTest, ASingleDashIsAWord) {
  auto parsed = Parse({"-"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, (std::vector<std::string>{"prog", "-"}));
}

TEST_F(ParseFlagsTest, ErrorsNameTheFlag) {
  EXPECT_EQ(Error({"--colour=red"}), "unknown flag --colour");
  EXPECT_EQ(Error({"--cuont=2"}), "unknown flag --cuont; did you mean --count?");
  EXPECT_EQ(Error({"--iteration=2"}), "unknown flag --iteration; did you mean --iterations?");
  EXPECT_EQ(Error({"--count=two"}), "--count: 'two' is not a valid value, expected an integer");
  EXPECT_EQ(Error({"--ratio=1/2"}), "--ratio: '1/2' is not a valid value, expected a number");
  EXPECT_EQ(Error({"--verbose=maybe"}),
            "--verbose: 'maybe' is not a valid value, expected true or false");
  EXPECT_EQ(Error({"--count"}), "--count: missing value, expected --count=VALUE");
  EXPECT_EQ(Error({"--nocount"}), "unknown flag --nocount (--count is not a boolean flag)");
  EXPECT_EQ(Error({"--noverbose=true"}),
            "--noverbose takes no value, expected --noverbose or --verbose=true");
}

TEST_F(ParseFlagsTest, AFlagWithAnImplicitValueMayStandAlone) {
  ASSERT_TRUE(Parse({"--name"}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_name), "all");
  ASSERT_TRUE(Parse({"--name", "--count=2"}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_name), "all");
  EXPECT_EQ(absl::GetFlag(FLAGS_count), 2);
  ASSERT_TRUE(Parse({"--name", "bob"}).ok());  // a word after it is still its value
  EXPECT_EQ(absl::GetFlag(FLAGS_name), "bob");
  ASSERT_TRUE(Parse({"--name=x,y"}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_name), "x,y");
}

TEST_F(ParseFlagsTest, AnErrorLeavesLaterFlagsUnset) {
  EXPECT_FALSE(Parse({"--bogus", "--count=7"}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_count), 1);
}

TEST_F(ParseFlagsTest, UsageFlagsAreRecognisedNotSet) {
  bool usage = false;
  auto parsed = Parse({"--help", "cmd"}, &usage);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(usage);
  EXPECT_EQ(*parsed, (std::vector<std::string>{"prog", "cmd"}));
  usage = true;
  ASSERT_TRUE(Parse({"cmd"}, &usage).ok());
  EXPECT_FALSE(usage);
  // A usage flag does not hide an error.
  EXPECT_EQ(Error({"--help", "--colour=red"}), "unknown flag --colour");
}

}  // namespace
}  // namespace affinity::command_line
