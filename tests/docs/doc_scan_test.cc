// doc_scan: what the README tests find in a document, on small Markdown
// written here.
#include "tests/docs/doc_scan.h"

#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace affinity::docs {
namespace {

const std::set<std::string> kPrograms = {"affinity-train", "affinity", "loadgen"};

std::vector<std::string> Texts(const std::vector<Snippet>& snippets, Snippet::Kind kind) {
  std::vector<std::string> texts;
  for (const Snippet& s : snippets) {
    if (s.kind == kind) texts.push_back(s.text);
  }
  return texts;
}

TEST(DocScanTest, CodeLinesJoinTheirContinuationsAndSpansLeaveTheProse) {
  const std::vector<Snippet> snippets = Snippets(
      "Run `affinity-train versions\n--db=DIR` now.\n"
      "\n"
      "```\n"
      "affinity-train --input=F \\\n"
      "--db=D\n"
      "loadgen --qps=1\n"
      "  [--k=10]\n"
      "```\n"
      "```\n"
      "  indented first line of another block\n"
      "```\n");
  EXPECT_EQ(Texts(snippets, Snippet::Kind::kCodeSpan),
            (std::vector<std::string>{"affinity-train versions --db=DIR"}));
  EXPECT_EQ(Texts(snippets, Snippet::Kind::kCodeLine),
            (std::vector<std::string>{"affinity-train --input=F \\ --db=D",
                                      "loadgen --qps=1 [--k=10]",
                                      "  indented first line of another block"}));
  const std::vector<std::string> prose = Texts(snippets, Snippet::Kind::kProse);
  ASSERT_EQ(prose.size(), 1u);
  EXPECT_EQ(prose[0].find("versions"), std::string::npos);
  EXPECT_NE(prose[0].find("now."), std::string::npos);
  EXPECT_EQ(snippets[0].line, 1);
}

TEST(DocScanTest, FlagTablesGiveTheirFirstColumn) {
  const std::vector<Snippet> snippets = Snippets(
      "| flag | meaning |\n|---|---|\n| `--qps`, `--k` | rate |\n| `--seed` | seed |\n\n"
      "| column | what |\n|---|---|\n| `--not_a_flag_cell` | x |\n");
  EXPECT_EQ(Texts(snippets, Snippet::Kind::kFlagCell),
            (std::vector<std::string>{"`--qps`, `--k`", "`--seed`"}));
}

TEST(DocScanTest, InvocationsTakeTheFlagsUpToTheEndOfTheCommand) {
  const std::vector<Invocation> found = Invocations(
      "out=$(bazel-bin/trainer/affinity-train nightly --input=F [--k=10] --db=D) || exit; "
      "affinity rollout set --arm=x --fraction=10% # not --this "
      "&& affinity recommend --user=1 | --session=S | grep --count x",
      kPrograms);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].program, "affinity-train");
  EXPECT_EQ(found[0].flags, (std::vector<std::string>{"input", "k", "db"}));
  EXPECT_EQ(found[1].program, "affinity rollout");
  EXPECT_EQ(found[1].flags, (std::vector<std::string>{"arm", "fraction"}));
  EXPECT_EQ(found[2].program, "affinity");
  EXPECT_EQ(found[2].flags, (std::vector<std::string>{"user", "session"}));
  // A message that starts with a program's name invokes nothing.
  EXPECT_TRUE(Invocations("affinity-train: --k: bad", kPrograms).empty());
}

TEST(DocScanTest, OtherCommands) {
  EXPECT_TRUE(StartsWithOtherCommand("bazel test --jobs=2 //x", kPrograms));
  EXPECT_TRUE(StartsWithOtherCommand("tools/test.sh --config=asan", kPrograms));
  EXPECT_TRUE(StartsWithOtherCommand("bazel-bin/server/scoring/scorer_bench --x", kPrograms));
  EXPECT_FALSE(StartsWithOtherCommand("bazel-bin/tools/loadgen/loadgen --qps=1", kPrograms));
  EXPECT_FALSE(StartsWithOtherCommand("set --arm=NAME", kPrograms));
  EXPECT_FALSE(StartsWithOtherCommand("--poll_ms", kPrograms));
  EXPECT_FALSE(StartsWithOtherCommand("common: --server=x", kPrograms));
}

TEST(DocScanTest, FlagMentionsLeaveOutUnknownFlagExamples) {
  EXPECT_EQ(FlagMentions("--a=1, (--b_c) x--d e-f --g unknown flag --itrations; --nofoo"),
            (std::vector<std::string>{"a", "b_c", "g", "nofoo"}));
}

TEST(DocScanTest, RepositoryPathsStopAtPlaceholders) {
  EXPECT_EQ(RepositoryPaths("see trainer/eval/metrics.h. Also `tests/fuzz/regressions/TARGET/`, "
                            "DIR/data/x, tools/nightly/ and server/README.md, proto/*.proto",
                            {"trainer", "tests", "data", "tools", "server", "proto"}),
            (std::vector<std::string>{"trainer/eval/metrics.h", "tests/fuzz/regressions",
                                      "tools/nightly/", "server/README.md", "proto"}));
}

TEST(DocScanTest, LabelsAndBazelBinPaths) {
  const std::vector<Label> labels =
      Labels("bazel test //tests/server:cli_test //tests/server/... //tools/loadgen "
             "http://127.0.0.1:9464/metrics dns:///localhost");
  ASSERT_EQ(labels.size(), 3u);
  EXPECT_EQ(labels[0].package, "tests/server");
  EXPECT_EQ(labels[0].target, "cli_test");
  EXPECT_EQ(labels[1].package, "tests/server");
  EXPECT_EQ(labels[1].target, "...");
  EXPECT_EQ(labels[2].package, "tools/loadgen");
  EXPECT_EQ(labels[2].target, "loadgen");
  const std::vector<Label> bins = BazelBinPaths("bazel-bin/trainer/eval/pure_svd_bench --x");
  ASSERT_EQ(bins.size(), 1u);
  EXPECT_EQ(bins[0].package, "trainer/eval");
  EXPECT_EQ(bins[0].target, "pure_svd_bench");
}

}  // namespace
}  // namespace affinity::docs
