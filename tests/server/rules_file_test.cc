// The rules file as the server reads it: LoadRulesFile refuses a file
// without any rule (what a reader sees while the file is rewritten in
// place), and RulesFileWatcher keeps the previous rules then, reads a
// changed file only once it has settled, and names the rule sets a reload
// removes.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/rules/catalog_view.h"
#include "server/rules/rule_config_loader.h"
#include "server/rules/rule_engine.h"
#include "server/rules/rules_file_watcher.h"

namespace affinity::server::rules {
namespace {

std::string TestDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" +
         ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

void WriteInPlace(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

void WriteByRename(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp, std::ios::binary | std::ios::trunc) << text;
  ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);
}

constexpr char kTwoSets[] = "rule_sets { name: \"a\" filters { attribute: \"brand\" any_of: \"x\" } }\n"
                            "rule_sets { name: \"b\" pins { item_id: \"p\" slot: 1 } }\n";

TEST(LoadRulesFileTest, AFileWithoutAnyRuleIsRefusedNamingTheFile) {
  const std::string dir = TestDir();
  ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  const std::vector<std::pair<std::string, std::string>> files = {
      {dir + "/empty.textproto", ""},
      {dir + "/blank.textproto", "\n   \n\t\n"},
      {dir + "/comments.textproto", "# rules of the shop\n# (none yet)\n"},
      {dir + "/empty.json", "{}"},
  };
  for (const auto& [path, text] : files) {
    WriteInPlace(path, text);
    auto rules = LoadRulesFile(path);
    ASSERT_FALSE(rules.ok()) << path;
    EXPECT_EQ(rules.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(rules.status().message().rfind(path + ": no rule set and no blocklist entry", 0), 0u)
        << rules.status();
  }
  // A blocklist alone, or one rule set, is a file with rules.
  WriteInPlace(dir + "/blocklist.textproto", "blocklist: \"x\"\n");
  EXPECT_TRUE(LoadRulesFile(dir + "/blocklist.textproto").ok());
  WriteInPlace(dir + "/one.textproto", "rule_sets { name: \"a\" }\n");
  EXPECT_TRUE(LoadRulesFile(dir + "/one.textproto").ok());
}

class WatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = TestDir();
    ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
    path_ = dir + "/rules.textproto";
    WriteInPlace(path_, kTwoSets);
    auto rules = LoadRulesFile(path_);
    ASSERT_TRUE(rules.ok()) << rules.status();
    engine_ = std::make_unique<RuleEngine>(*rules, catalog_.get());
    watcher_ = std::make_unique<RulesFileWatcher>(
        path_, 1000, engine_.get(), [this](const std::string& line) { log_.push_back(line); },
        [this] { ++reloads_; });
  }

  std::vector<std::string> Names() const { return engine_->rules()->Names(); }

  std::unique_ptr<CatalogView> catalog_ = CatalogView::InMemory({});
  std::string path_;
  std::unique_ptr<RuleEngine> engine_;
  std::unique_ptr<RulesFileWatcher> watcher_;
  std::vector<std::string> log_;
  int reloads_ = 0;
};

TEST_F(WatcherTest, AFileEmptiedInPlaceKeepsThePreviousRules) {
  WriteInPlace(path_, "");  // an editor's truncation, before it writes
  watcher_->Check(false);
  watcher_->Check(false);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_EQ(log_[0].rfind("rules rejected, keeping the previous rules: " + path_ +
                              ": no rule set and no blocklist entry (0 bytes",
                          0),
            0u)
      << log_[0];
  EXPECT_EQ(Names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(reloads_, 0);
  // SIGHUP re-reads the empty file, with the same outcome.
  watcher_->Check(true);
  EXPECT_EQ(Names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(reloads_, 0);
}

TEST_F(WatcherTest, AChangedFileIsReadOnceItHasSettled) {
  WriteInPlace(path_, "rule_sets { name: \"a\" }\n");  // "b" is cut off
  watcher_->Check(false);  // first sight of the change: not read yet
  EXPECT_TRUE(log_.empty());
  EXPECT_EQ(Names(), (std::vector<std::string>{"a", "b"}));
  WriteByRename(path_, kTwoSets + std::string("rule_sets { name: \"c\" }\n"));  // still changing
  watcher_->Check(false);
  EXPECT_TRUE(log_.empty());
  watcher_->Check(false);  // unchanged since the previous check: read
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_EQ(log_[0], "rules reloaded from " + path_ + " (rule sets: a, b, c)");
  EXPECT_EQ(Names(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(reloads_, 1);
  watcher_->Check(false);  // nothing changed since
  EXPECT_EQ(log_.size(), 1u);
}

TEST_F(WatcherTest, AReloadNamesTheRuleSetsItRemoved) {
  WriteByRename(path_, "rule_sets { name: \"a\" }\n");
  watcher_->Check(true);  // SIGHUP: at once
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_EQ(log_[0], "rules reloaded from " + path_ + " (rule sets: a); removed: b");
  EXPECT_EQ(Names(), (std::vector<std::string>{"a"}));
}

}  // namespace
}  // namespace affinity::server::rules
