// The READMEs against the four binaries' flags:
// - a binary's --help lists exactly the flags defined in the project's own
//   sources (Abseil's internal flags stay out), as --helpfull shows them;
// - the README that documents a binary names each of them as `--flag`;
// - every invocation of a binary in any README (command lines of code
//   blocks, code spans, the first column of flag tables) passes only flags
//   that binary has;
// - every other --flag the READMEs mention is a flag of one of the
//   binaries, or one of the few other programs' flags listed below.
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/docs/doc_scan.h"

namespace affinity::docs {
namespace {

struct Binary {
  const char* name;
  const char* path;  // in the runfiles
  const char* home;  // the README that documents its flags
};

constexpr Binary kBinaries[] = {
    {"affinity-train", "trainer/affinity-train", "README.md"},
    {"affinity-server", "server/affinity-server", "server/README.md"},
    {"affinity", "tools/affinity", "tools/cli/README.md"},
    {"loadgen", "tools/loadgen/loadgen", "tools/loadgen/README.md"},
};

constexpr const char* kDocs[] = {
    "README.md",           "server/README.md",         "tools/cli/README.md",
    "tools/loadgen/README.md", "tools/nightly/README.md", "clients/python/README.md",
    "clients/node/README.md",  "tools/systemd/README.md", "tools/grafana/README.md",
};

// Abseil's usage flags, which every binary takes.
const std::set<std::string> kUsageFlags = {"help",      "helpfull",       "helpshort",
                                           "helpmatch", "helppackage",    "version",
                                           "only_check_args"};

// Flags of other programs that the READMEs mention on their own.
const std::map<std::string, std::string> kOtherFlags = {
    {"flag", "the placeholder of `--flag: what, expected what`"},
    {"custom_malloc", "Bazel's (the tsan config links its runtime through it)"},
    {"dynamic_mode", "Bazel's (the tsan config links statically)"},
    {"offline", "systemd-analyze security's"},
    {"benchmark_filter", "Google Benchmark's (the scorer_bench commands)"},
    {"benchmark_min_time", "Google Benchmark's (the scorer_bench commands)"},
    {"api", "the Python package's affinity-list-services (reflection v1 or v1alpha)"},
};

// Source folders of the project (flags defined elsewhere are Abseil's).
constexpr const char* kProjectDirs[] = {"trainer/", "server/", "storage/", "tools/", "proto/"};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// stdout of `command` (stderr dropped).
std::string Output(const std::string& command) {
  std::string out;
  FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof(buffer), pipe)) > 0;) out.append(buffer, n);
  pclose(pipe);
  return out;
}

// Flag names of Abseil's usage text, by the file that defines them.
std::map<std::string, std::set<std::string>> FlagsByFile(const std::string& usage) {
  std::map<std::string, std::set<std::string>> flags;
  static const std::regex kLine(R"(^  Flags from (.*):$|^    --(\w+) \()");
  std::string file;
  std::istringstream lines(usage);
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (!std::regex_search(line, match, kLine)) continue;
    if (match[1].matched) {
      file = match[1];
    } else {
      flags[file].insert(match[2]);
    }
  }
  return flags;
}

bool IsProjectFile(const std::string& file) {
  for (const char* dir : kProjectDirs) {
    if (absl::StartsWith(file, dir)) return true;
  }
  return false;
}

std::set<std::string> Union(const std::map<std::string, std::set<std::string>>& by_file,
                            bool project_only) {
  std::set<std::string> all;
  for (const auto& [file, names] : by_file) {
    if (!project_only || IsProjectFile(file)) all.insert(names.begin(), names.end());
  }
  return all;
}

class FlagsDocsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    flags_ = new std::map<std::string, std::set<std::string>>;
    for (const Binary& binary : kBinaries) {
      (*flags_)[binary.name] = Union(FlagsByFile(Output(absl::StrCat(binary.path, " --helpfull"))),
                                     /*project_only=*/true);
    }
    // `affinity rollout` reads its own flags; its --help names each one.
    const std::vector<std::string> rollout = FlagMentions(Output("tools/affinity rollout --help"));
    (*flags_)["affinity rollout"] = {rollout.begin(), rollout.end()};
  }
  static void TearDownTestSuite() { delete flags_; }

  // Whether `program` takes --`name` (or its negation --noNAME).
  static bool Takes(const std::string& program, const std::string& name) {
    const std::set<std::string>& flags = flags_->at(program);
    return flags.count(name) || kUsageFlags.count(name) ||
           (absl::StartsWith(name, "no") && flags.count(name.substr(2)));
  }

  static std::set<std::string> Programs() {
    std::set<std::string> programs;
    for (const Binary& binary : kBinaries) programs.insert(binary.name);
    return programs;
  }

  static std::map<std::string, std::set<std::string>>* flags_;
};

std::map<std::string, std::set<std::string>>* FlagsDocsTest::flags_ = nullptr;

TEST_F(FlagsDocsTest, HelpListsExactlyTheProjectsOwnFlags) {
  for (const Binary& binary : kBinaries) {
    const std::set<std::string>& own = flags_->at(binary.name);
    EXPECT_GE(own.size(), 10u) << binary.name << " --helpfull: too few flags of the project";
    const std::set<std::string> help =
        Union(FlagsByFile(Output(absl::StrCat(binary.path, " --help"))), /*project_only=*/false);
    EXPECT_EQ(help, own) << binary.name << " --help lists {" << absl::StrJoin(help, ", ")
                         << "}; its sources define {" << absl::StrJoin(own, ", ") << "}";
  }
  EXPECT_GE(flags_->at("affinity rollout").size(), 10u) << "affinity rollout --help";
}

TEST_F(FlagsDocsTest, TheHomeReadmeDocumentsEveryFlag) {
  std::vector<std::pair<std::string, std::string>> homes;  // program, doc
  for (const Binary& binary : kBinaries) homes.emplace_back(binary.name, binary.home);
  homes.emplace_back("affinity rollout", "tools/cli/README.md");
  for (const auto& [program, doc] : homes) {
    const std::string text = ReadFile(doc);
    ASSERT_FALSE(text.empty()) << doc;
    const std::vector<std::string> mentioned = FlagMentions(text);
    const std::set<std::string> documented(mentioned.begin(), mentioned.end());
    for (const std::string& flag : flags_->at(program)) {
      EXPECT_TRUE(documented.count(flag))
          << doc << " does not document --" << flag << " of " << program;
    }
  }
}

TEST_F(FlagsDocsTest, InvocationsPassOnlyFlagsTheBinaryHas) {
  std::map<std::string, int> invocations;
  for (const char* doc : kDocs) {
    std::string home_program;
    for (const Binary& binary : kBinaries) {
      if (std::string(binary.home) == doc) home_program = binary.name;
    }
    for (const Snippet& snippet : Snippets(ReadFile(doc))) {
      std::vector<Invocation> found;
      if (snippet.kind == Snippet::Kind::kFlagCell && !home_program.empty()) {
        found.push_back({home_program, FlagMentions(snippet.text)});
      } else if (snippet.kind == Snippet::Kind::kCodeLine ||
                 snippet.kind == Snippet::Kind::kCodeSpan) {
        found = Invocations(snippet.text, Programs());
      }
      for (const Invocation& invocation : found) {
        ++invocations[invocation.program];
        for (const std::string& flag : invocation.flags) {
          EXPECT_TRUE(Takes(invocation.program, flag))
              << doc << ":" << snippet.line << ": " << invocation.program << " has no --" << flag
              << ": " << snippet.text;
        }
      }
    }
  }
  for (const Binary& binary : kBinaries) {
    EXPECT_GE(invocations[binary.name], 3) << "too few invocations of " << binary.name << " found";
  }
  EXPECT_GE(invocations["affinity rollout"], 3);
}

TEST_F(FlagsDocsTest, EveryOtherFlagMentionedIsABinarysFlag) {
  std::set<std::string> all;
  for (const auto& [program, names] : *flags_) all.insert(names.begin(), names.end());
  for (const char* doc : kDocs) {
    for (const Snippet& snippet : Snippets(ReadFile(doc))) {
      if (snippet.kind == Snippet::Kind::kFlagCell) continue;  // a table row's own snippet covers it
      if (snippet.kind != Snippet::Kind::kProse &&
          (!Invocations(snippet.text, Programs()).empty() ||
           StartsWithOtherCommand(snippet.text, Programs()))) {
        continue;
      }
      for (const std::string& flag : FlagMentions(snippet.text)) {
        EXPECT_TRUE(all.count(flag) || kUsageFlags.count(flag) || kOtherFlags.count(flag) ||
                    (absl::StartsWith(flag, "no") && all.count(flag.substr(2))))
            << doc << ":" << snippet.line << ": --" << flag
            << " is no flag of affinity-train, affinity-server, affinity or loadgen: "
            << snippet.text;
      }
    }
  }
}

}  // namespace
}  // namespace affinity::docs
