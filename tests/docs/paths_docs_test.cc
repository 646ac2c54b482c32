// Every README.md of the repository against the tree: each repository path
// it names (trainer/eval/metrics.h, tools/nightly/), each Bazel label
// (//tests/server:server_docs_test) and bazel-bin/ path, and each file name
// it quotes on its own (`model_store.h`) exists, except the few generated
// or example names listed below.
//
// The tree is the source tree the README.md runfile links to: Bazel reruns
// this test when a README changes, not when a file it names is removed.
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "tests/docs/doc_scan.h"

namespace affinity::docs {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kTopDirs = {"trainer", "storage", "server", "proto", "tools", "clients",
                                           "tests",   "data",    "config", "bazel", "third_party"};

// Names the READMEs give to what is not in the tree, and why.
const std::map<std::string, std::string> kNotInTree = {
    {"config/.rules.tmp", "the temporary file of an example of replacing the rules atomically"},
    {"tests/fuzz/regressions", "made by the first fuzzing finding (none so far)"},
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The source tree: the directory of the file the README.md runfile links to.
fs::path SourceRoot() {
  std::error_code error;
  const fs::path readme = fs::canonical("README.md", error);
  return error ? fs::path() : readme.parent_path();
}

bool Skipped(const fs::path& relative) {
  const std::string first = relative.begin()->string();
  return absl::StartsWith(first, "bazel-") || absl::StartsWith(first, ".");
}

class PathsDocsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = SourceRoot();
    ASSERT_TRUE(fs::exists(root_ / "WORKSPACE")) << "no source tree behind README.md: " << root_;
    for (auto it = fs::recursive_directory_iterator(root_); it != fs::recursive_directory_iterator();
         ++it) {
      const fs::path relative = fs::relative(it->path(), root_);
      if (Skipped(relative)) {
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file()) continue;
      names_.insert(it->path().filename().string());
      if (it->path().filename() == "README.md") readmes_.push_back(relative);
    }
    ASSERT_GE(readmes_.size(), 5u);
  }

  // Whether //package:target names a rule or a file of the package.
  bool LabelExists(const Label& label) const {
    const fs::path package = root_ / label.package;
    if (!fs::exists(package / "BUILD")) return false;
    if (label.target == "...") return true;
    return fs::exists(package / label.target) ||
           absl::StrContains(ReadFile(package / "BUILD"), absl::StrCat("\"", label.target, "\""));
  }

  fs::path root_;
  std::vector<fs::path> readmes_;
  std::set<std::string> names_;  // file names anywhere in the tree
};

TEST_F(PathsDocsTest, EveryRepositoryPathExists) {
  int checked = 0;
  for (const fs::path& readme : readmes_) {
    for (const std::string& path : RepositoryPaths(ReadFile(root_ / readme), kTopDirs)) {
      ++checked;
      const std::string key(absl::StripSuffix(path, "/"));
      if (kNotInTree.count(key)) continue;
      EXPECT_TRUE(fs::exists(root_ / path)) << readme.string() << " names " << path
                                            << ", which does not exist";
    }
  }
  EXPECT_GE(checked, 50);
}

TEST_F(PathsDocsTest, EveryLabelAndBazelBinPathNamesATarget) {
  int checked = 0;
  for (const fs::path& readme : readmes_) {
    const std::string text = ReadFile(root_ / readme);
    for (const Label& label : Labels(text)) {
      ++checked;
      EXPECT_TRUE(LabelExists(label))
          << readme.string() << " names //" << label.package << ":" << label.target
          << ", which no BUILD file defines";
    }
    for (const Label& label : BazelBinPaths(text)) {
      ++checked;
      EXPECT_TRUE(LabelExists(label)) << readme.string() << " names bazel-bin/" << label.package
                                      << "/" << label.target << ", which no BUILD file defines";
    }
  }
  EXPECT_GE(checked, 30);
}

TEST_F(PathsDocsTest, EveryQuotedFileNameExists) {
  static const std::regex kFileName(
      R"(`([A-Za-z0-9_.-]+\.(h|cc|proto|py|sh|md|textproto|json|bzl|env|service|timer))`)");
  for (const fs::path& readme : readmes_) {
    const std::string text = ReadFile(root_ / readme);
    for (std::sregex_iterator it(text.begin(), text.end(), kFileName), end; it != end; ++it) {
      const std::string name = (*it)[1];
      if (kNotInTree.count(name)) continue;
      EXPECT_TRUE(names_.count(name)) << readme.string() << " quotes `" << name
                                      << "`, and no file of the tree has that name";
    }
  }
}

}  // namespace
}  // namespace affinity::docs
