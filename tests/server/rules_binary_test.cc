// affinity-server with --rules and a catalog, as an operator runs it: a bad
// rules file at start is a usage error naming file and line; edits to the
// file are picked up while serving, a malformed edit is logged with its
// line and the previous rules keep serving; catalog writes through the
// admin port and by another process reach the answers without a restart.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "affinity/v1/admin.grpc.pb.h"
#include "affinity/v1/recommender.grpc.pb.h"
#include "gtest/gtest.h"
#include "storage/catalog_store.h"
#include "storage/model_store.h"
#include "tests/server/server_process.h"
#include "tests/server/test_model.h"

namespace affinity::server {
namespace {

using affinity::v1::CatalogItem;
using testing::kServerBinary;
using testing::LoggedPort;
using testing::ReadFile;
using testing::Spawn;
using testing::TestModel;
using testing::TmpDir;
using testing::WaitExit;
using testing::WaitForLog;

void WriteFile(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp) << text;
  std::rename(tmp.c_str(), path.c_str());
}

CatalogItem Item(int i, bool in_stock) {
  CatalogItem item;
  item.set_item_id(TestModel::ItemId(i));
  item.add_categories("g" + std::to_string(i % 5));
  item.set_in_stock(in_stock);
  return item;
}

class RulesBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = TmpDir() + "/" + info->name();
    db_ = dir_ + "/db";
    rules_ = dir_ + "/rules.textproto";
    log_ = dir_ + "/server.log";
    model_ = testing::MakeImplicitModel(5, 20, 100, 8, 10);
    auto store = storage::ModelStore::Open(db_, storage::ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(testing::Publish(store->get(), model_).ok());
    auto catalog = storage::CatalogStore::Open(db_, storage::CatalogStore::Mode::kReadWrite);
    ASSERT_TRUE(catalog.ok()) << catalog.status();
    std::vector<CatalogItem> items;
    for (int i = 0; i < 100; ++i) items.push_back(Item(i, true));
    ASSERT_TRUE((*catalog)->Upsert(items).ok());
  }

  void Start(const std::vector<std::string>& flags = {}) {
    std::vector<std::string> args = {kServerBinary, "--db=" + db_, "--rules=" + rules_,
                                     "--listen=127.0.0.1:0", "--metrics_listen=",
                                     "--admin_listen=127.0.0.1:0", "--poll_ms=100",
                                     "--catalog_poll_ms=100"};
    args.insert(args.end(), flags.begin(), flags.end());
    pid_ = Spawn(args, log_);
    WaitForLog(log_, "routing (rollout revision");  // the model serves
    const std::string text = WaitForLog(log_, "admin services on");
    ASSERT_NE(text.find("model loaded"), std::string::npos) << text;
    const std::optional<int> port = LoggedPort(text, "started: grpc");
    ASSERT_TRUE(port.has_value()) << text;
    const std::optional<int> admin_port = LoggedPort(text, "admin services on");
    ASSERT_TRUE(admin_port.has_value()) << text;
    stub_ = affinity::v1::Recommender::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(*port), grpc::InsecureChannelCredentials()));
    admin_ = affinity::v1::CatalogAdmin::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(*admin_port), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    // Closing the channels first lets the server's drain end at once.
    stub_.reset();
    admin_.reset();
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      EXPECT_EQ(WaitExit(pid_), 0);
    }
  }

  // Item ids of the answer; empty with `status` set on failure.
  std::vector<std::string> Recommend(const std::string& rule_set, grpc::Status* status,
                                     const std::vector<affinity::v1::Filter>& filters = {}) {
    affinity::v1::RecommendRequest request;
    request.set_user_id(TestModel::UserId(1));
    request.set_k(10);
    request.set_rule_set(rule_set);
    for (const affinity::v1::Filter& f : filters) *request.add_filters() = f;
    affinity::v1::RecommendResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    *status = stub_->Recommend(&context, request, &response);
    std::vector<std::string> ids;
    for (const auto& item : response.items()) ids.push_back(item.item_id());
    return ids;
  }

  static int CountCategory(const std::vector<std::string>& ids, int category) {
    int n = 0;
    for (const std::string& id : ids) n += std::stoi(id.substr(5)) % 5 == category;
    return n;
  }

  std::string dir_, db_, rules_, log_;
  TestModel model_;
  pid_t pid_ = -1;
  std::unique_ptr<affinity::v1::Recommender::Stub> stub_;
  std::unique_ptr<affinity::v1::CatalogAdmin::Stub> admin_;
};

constexpr char kNoG0[] = R"pb(
rule_sets {
  name: "shop"
  filters { attribute: "category" none_of: "g0" }
  filters { attribute: "in_stock" equals: true }
}
)pb";

TEST_F(RulesBinaryTest, BadRulesFileAtStartIsAUsageErrorNamingTheLine) {
  WriteFile(rules_, "rule_sets {\n  name: \"a\"\n  pins { slot: 1 item_id: \"x\" }\n  bogus: 1\n}\n");
  const int code = WaitExit(Spawn({kServerBinary, "--db=" + db_, "--rules=" + rules_,
                                   "--listen=127.0.0.1:0", "--metrics_listen=",
                                   "--admin_listen=127.0.0.1:0"},
                                  log_));
  EXPECT_EQ(code, 2);
  EXPECT_NE(ReadFile(log_).find(rules_ + ":4:"), std::string::npos) << ReadFile(log_);
}

TEST_F(RulesBinaryTest, EmptyRulesFileAtStartIsAUsageError) {
  WriteFile(rules_, "# the shop's rules\n\n");
  const pid_t pid = Spawn({kServerBinary, "--db=" + db_, "--rules=" + rules_,
                           "--listen=127.0.0.1:0", "--metrics_listen=",
                           "--admin_listen=127.0.0.1:0"},
                          log_);
  const std::optional<int> code = testing::WaitExitFor(pid, 10000);
  if (!code.has_value()) {  // it serves: stop it, the test has failed
    kill(pid, SIGKILL);
    WaitExit(pid);
  }
  EXPECT_EQ(code, 2);
  EXPECT_NE(ReadFile(log_).find("rules rejected: " + rules_ + ": no rule set and no blocklist"),
            std::string::npos)
      << ReadFile(log_);
}

TEST_F(RulesBinaryTest, ARulesFileEmptiedWhileServingKeepsTheRules) {
  WriteFile(rules_, kNoG0);
  Start();
  // Truncated in place, as an editor does before writing the new contents.
  std::ofstream(rules_, std::ios::trunc).flush();
  const std::string text = WaitForLog(log_, "rules rejected");
  EXPECT_NE(text.find("rules rejected, keeping the previous rules: " + rules_ +
                      ": no rule set and no blocklist entry (0 bytes"),
            std::string::npos)
      << text;
  grpc::Status status;
  const std::vector<std::string> ids = Recommend("shop", &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ids.size(), 10u);
  EXPECT_EQ(CountCategory(ids, 0), 0);
}

// Each loaded version's prepared rules are logged with what they hold: the
// rule sets (the default one included) and the bytes of the scorer's copies
// (none here: the exact scorer keeps none).
TEST_F(RulesBinaryTest, TheLogSaysWhatEachVersionsRulesHold) {
  WriteFile(rules_, kNoG0);
  Start();
  const std::string text = ReadFile(log_);
  EXPECT_NE(text.find("rules prepared for version 1: rule sets 2, scan copies 0.0 MB"),
            std::string::npos)
      << text;
}

TEST_F(RulesBinaryTest, RulesFileEditsAreReloadedAndAMalformedEditKeepsTheOldRules) {
  WriteFile(rules_, kNoG0);
  Start();
  grpc::Status status;
  std::vector<std::string> ids = Recommend("shop", &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(ids.size(), 10u);
  EXPECT_EQ(CountCategory(ids, 0), 0);

  // A malformed edit: logged with file and line; the old rules keep serving.
  WriteFile(rules_, "rule_sets {\n  name: \"shop\"\n  filters { attribute: \"colour\" any_of: \"red\" }\n}\n");
  const std::string text = WaitForLog(log_, "rules rejected");
  EXPECT_NE(text.find("rules rejected, keeping the previous rules: " + rules_ + ":3:"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("unknown attribute \"colour\""), std::string::npos) << text;
  ids = Recommend("shop", &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ids.size(), 10u);
  EXPECT_EQ(CountCategory(ids, 0), 0);

  // A good edit replaces them without a restart.
  WriteFile(rules_, R"pb(rule_sets { name: "shop2" filters { attribute: "category" any_of: "g0" } })pb");
  WaitForLog(log_, "rules reloaded");
  ids = Recommend("shop2", &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(CountCategory(ids, 0), static_cast<int>(ids.size()));
  Recommend("shop", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // SIGHUP reloads the file even when it did not change.
  kill(pid_, SIGHUP);
  const std::string after_hup = WaitForLog(log_, "SIGHUP: reloading the rules file");
  EXPECT_NE(after_hup.find("SIGHUP: reloading the rules file"), std::string::npos) << after_hup;
  ids = Recommend("shop2", &status);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(RulesBinaryTest, CatalogWritesReachTheNextAnswersWithoutARestart) {
  WriteFile(rules_, kNoG0);
  Start();
  grpc::Status status;
  std::vector<std::string> before = Recommend("shop", &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_GE(before.size(), 2u);

  // Through the admin port: visible in the very next answer.
  affinity::v1::UpsertItemsRequest upsert;
  *upsert.add_items() = Item(std::stoi(before[0].substr(5)), /*in_stock=*/false);
  affinity::v1::UpsertItemsResponse upserted;
  grpc::ClientContext context;
  ASSERT_TRUE(admin_->UpsertItems(&context, upsert, &upserted).ok());
  std::vector<std::string> after = Recommend("shop", &status);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(std::count(after.begin(), after.end(), before[0]), 0);

  // By another process (e.g. affinity-train catalog): picked up by polling.
  {
    auto writer = storage::CatalogStore::Open(db_, storage::CatalogStore::Mode::kReadWrite);
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE((*writer)->Upsert({Item(std::stoi(before[1].substr(5)), false)}).ok());
  }
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    after = Recommend("shop", &status);
    gone = std::count(after.begin(), after.end(), before[1]) == 0;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(gone) << before[1] << " still returned after an external catalog write";
}

affinity::v1::Filter PriceAtMost(double max) {
  affinity::v1::Filter filter;
  filter.set_attribute("price");
  filter.set_max(max);
  return filter;
}

TEST_F(RulesBinaryTest, PricesAreFiniteOrMissingAndRequestFiltersAreBounded) {
  WriteFile(rules_, kNoG0);
  Start({"--max_request_filters=2", "--max_filter_values=3"});
  grpc::Status status;
  // No catalog item has a price: a price range keeps none of them.
  std::vector<std::string> ids = Recommend("", &status, {PriceAtMost(100)});
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(ids.empty()) << ids.size() << " unpriced items passed a price filter";
  affinity::v1::Filter keep_missing = PriceAtMost(100);
  keep_missing.set_keep_missing(true);
  EXPECT_EQ(Recommend("", &status, {keep_missing}).size(), 10u);

  // A priced item the user has not seen passes; a NaN price is refused by
  // the admin service, naming the field, and the stored price is kept.
  int unseen = 0;
  while (std::binary_search(model_.seen[1].begin(), model_.seen[1].end(),
                            static_cast<uint32_t>(unseen))) {
    ++unseen;
  }
  for (double price : {20.0, std::nan(""), HUGE_VAL}) {
    affinity::v1::UpsertItemsRequest upsert;
    CatalogItem* item = upsert.add_items();
    *item = Item(unseen, true);
    item->set_price(price);
    affinity::v1::UpsertItemsResponse upserted;
    grpc::ClientContext context;
    const grpc::Status written = admin_->UpsertItems(&context, upsert, &upserted);
    if (std::isfinite(price)) {
      ASSERT_TRUE(written.ok()) << written.error_message();
    } else {
      EXPECT_EQ(written.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_EQ(written.error_message().rfind("items[0].price: ", 0), 0u)
          << written.error_message();
    }
  }
  ids = Recommend("", &status, {PriceAtMost(100)});
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ids, std::vector<std::string>{TestModel::ItemId(unseen)});

  // A NaN bound would keep everything: refused, naming the field.
  affinity::v1::Filter nan_min;
  nan_min.set_attribute("price");
  nan_min.set_min(std::nan(""));
  Recommend("", &status, {nan_min});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "filters[0].min: expected a finite number, got nan");

  // --max_filter_values and --max_request_filters.
  affinity::v1::Filter many;
  many.set_attribute("category");
  for (const char* v : {"g1", "g2", "g3", "g4"}) many.add_any_of(v);
  Recommend("", &status, {many});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "filters[0]: 4 any_of/none_of values, at most 3");
  many.mutable_any_of()->RemoveLast();
  ids = Recommend("", &status, {many});
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ids.size(), 10u);
  Recommend("", &status, {many, keep_missing, many});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "filters: 3 given, at most 2");
}

}  // namespace
}  // namespace affinity::server
