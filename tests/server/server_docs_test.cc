// The serving docs against the binary: server/README.md's flag table lists
// exactly the flags `affinity-server --help` prints, with their defaults;
// every affinity-server command line in server/README.md and README.md uses
// only flags that exist; and the Metrics section names exactly the metric
// families a running server exports, with their types.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "tests/server/exposition.h"
#include "tests/server/http_get.h"
#include "tests/server/server_process.h"
#include "tests/server/test_model.h"

namespace affinity::server {
namespace {

using testing::kServerBinary;
using testing::ReadFile;
using testing::TmpDir;

constexpr char kServerReadme[] = "server/README.md";
constexpr char kReadme[] = "README.md";

// flag name -> default, as `--help` prints them for server/main.cc.
std::map<std::string, std::string> HelpFlags() {
  const std::string out = TmpDir() + "/help.txt";
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::freopen(out.c_str(), "w", stdout);
    (void)f;
    execl(kServerBinary, kServerBinary, "--help", static_cast<char*>(nullptr));
    _exit(127);
  }
  EXPECT_EQ(testing::WaitExit(pid), 0);  // usage on stdout, exit 0
  const std::string text = ReadFile(out);
  std::map<std::string, std::string> flags;
  static const std::regex kFlag(R"(\n    --(\w+) \([\s\S]*?\);\s+default: ([^;]*);)");
  for (std::sregex_iterator it(text.begin(), text.end(), kFlag), end; it != end; ++it) {
    std::string value = (*it)[2];
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    flags[(*it)[1]] = value;
  }
  return flags;
}

// The rows of the first table after the line starting with `header`:
// cells with surrounding blanks removed.
std::vector<std::vector<std::string>> TableAfter(const std::string& text,
                                                 const std::string& header) {
  std::vector<std::vector<std::string>> rows;
  bool in_table = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!in_table) {
      in_table = absl::StartsWith(line, header);
      continue;
    }
    if (absl::StartsWith(line, "|---")) continue;
    if (!absl::StartsWith(line, "|")) break;
    std::vector<std::string> cells;
    for (absl::string_view cell : absl::StrSplit(line, '|')) {
      cells.emplace_back(absl::StripAsciiWhitespace(cell));
    }
    // "| a | b |" splits into "", a, b, "".
    rows.emplace_back(cells.begin() + 1, cells.end() - 1);
  }
  return rows;
}

// The text from the line `heading` to the next heading of its level.
std::string Section(const std::string& text, const std::string& heading) {
  const size_t start = text.find("\n" + heading + "\n");
  if (start == std::string::npos) return "";
  const size_t end = text.find("\n## ", start + heading.size() + 2);
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// Every affinity-server command line in the fenced code blocks of `text`,
// with its continuation lines (indented, or after a trailing backslash).
std::vector<std::string> ServerCommands(const std::string& text) {
  std::vector<std::string> commands;
  bool in_code = false;
  bool continues = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, "```")) {
      in_code = !in_code;
      continues = false;
      continue;
    }
    if (!in_code) continue;
    const bool indented = !line.empty() && absl::ascii_isspace(static_cast<unsigned char>(line[0]));
    if (continues && (indented || absl::EndsWith(commands.back(), "\\"))) {
      commands.back() += " " + std::string(line);
    } else {
      continues = absl::StrContains(line, "affinity-server ");
      if (continues) commands.emplace_back(line);
    }
  }
  return commands;
}

TEST(ServerDocsTest, TheFlagTableListsEveryFlagWithItsDefault) {
  const std::map<std::string, std::string> help = HelpFlags();
  ASSERT_GE(help.size(), 18u) << "could not read affinity-server --help";
  const auto rows = TableAfter(ReadFile(kServerReadme), "| flag | default | meaning |");
  ASSERT_FALSE(rows.empty()) << "no flag table in " << kServerReadme;
  std::set<std::string> documented;
  for (const std::vector<std::string>& row : rows) {
    ASSERT_EQ(row.size(), 3u) << absl::StrJoin(row, " | ");
    const std::string flag(absl::StripSuffix(absl::StripPrefix(row[0], "`--"), "`"));
    EXPECT_TRUE(documented.insert(flag).second) << "--" << flag << " documented twice";
    auto it = help.find(flag);
    if (it == help.end()) {
      ADD_FAILURE() << kServerReadme << " documents --" << flag << ", which --help does not list";
      continue;
    }
    const std::string cell = absl::StrReplaceAll(row[1], {{"`", ""}});
    if (it->second.empty()) {
      EXPECT_TRUE(absl::StartsWith(cell, "("))
          << "--" << flag << ": default is empty, the table says " << cell;
    } else {
      const std::vector<std::string> words = absl::StrSplit(cell, ' ');
      EXPECT_EQ(words[0], it->second) << "--" << flag << " default";
    }
  }
  for (const auto& [flag, value] : help) {
    EXPECT_TRUE(documented.count(flag)) << "--" << flag << " (default " << value << ") is not in "
                                        << kServerReadme << "'s flag table";
  }
}

TEST(ServerDocsTest, ServerCommandLinesUseOnlyExistingFlags) {
  const std::map<std::string, std::string> help = HelpFlags();
  ASSERT_FALSE(help.empty());
  static const std::regex kFlag(R"(--([a-z_]+))");
  int commands = 0;
  for (const char* doc : {kServerReadme, kReadme}) {
    for (const std::string& command : ServerCommands(ReadFile(doc))) {
      ++commands;
      for (std::sregex_iterator it(command.begin(), command.end(), kFlag), end; it != end; ++it) {
        EXPECT_TRUE(help.count((*it)[1]))
            << doc << ": --" << (*it)[1] << " is not a flag of affinity-server: " << command;
      }
    }
  }
  EXPECT_GE(commands, 5);
}

TEST(ServerDocsTest, TheMetricsSectionNamesEveryExportedFamily) {
  const std::string db = TmpDir() + "/docs-db";
  {
    auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(testing::Publish(store->get(), testing::MakeImplicitModel(5, 10, 30, 4, 5)).ok());
  }
  const std::string log = TmpDir() + "/docs-server.log";
  const pid_t pid = testing::Spawn(
      {kServerBinary, "--db=" + db, "--listen=127.0.0.1:0", "--metrics_listen=127.0.0.1:0",
       "--admin_listen=", "--poll_ms=100", "--instance=docs-test", "--autopilot_seconds=0"},
      log);
  const std::string text = testing::WaitForLog(log, "model loaded");
  const std::optional<int> port = testing::LoggedPort(text, "\\(port \\d+\\), metrics");
  ASSERT_TRUE(port.has_value()) << text;
  absl::StatusOr<testing::Exposition> scrape =
      testing::ParseExposition(testing::HttpGetBody(*port, "/metrics"));
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_EQ(testing::WaitExit(pid), 0);
  ASSERT_TRUE(scrape.ok()) << scrape.status();
  ASSERT_GE(scrape->family_types.size(), 20u);

  const std::string section = Section(ReadFile(kServerReadme), "## Metrics");
  ASSERT_FALSE(section.empty()) << "no ## Metrics in " << kServerReadme;
  std::map<std::string, std::string> documented;  // family -> type column
  // Every table of the section.
  for (size_t at = section.find("| metric | type |"); at != std::string::npos;
       at = section.find("| metric | type |", at + 1)) {
    for (const std::vector<std::string>& row :
         TableAfter(section.substr(at), "| metric | type |")) {
      ASSERT_GE(row.size(), 2u);
      const std::string family(absl::StripSuffix(absl::StripPrefix(row[0], "`"), "`"));
      EXPECT_TRUE(documented.emplace(family, row[1]).second) << family << " documented twice";
    }
  }
  for (const auto& [family, type] : scrape->family_types) {
    auto it = documented.find(family);
    if (it == documented.end()) {
      ADD_FAILURE() << family << " (" << type << ") is exported but not in " << kServerReadme
                    << " ## Metrics";
    } else {
      EXPECT_TRUE(absl::StartsWith(it->second, type))
          << family << ": exported as " << type << ", documented as " << it->second;
    }
  }
  for (const auto& [family, type] : documented) {
    EXPECT_TRUE(scrape->family_types.count(family))
        << kServerReadme << " documents " << family << ", which the server does not export";
  }
}

}  // namespace
}  // namespace affinity::server
