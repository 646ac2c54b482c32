// Crash safety of the server's admin writes end to end: a client sends a
// real affinity-server catalog upserts and deletes (CatalogAdmin) and
// rollout changes (RolloutAdmin) one at a time on its admin port, and the
// server is SIGKILLed at a seeded random moment. After a restart, the
// catalog (read from DIR/catalog) and the rollout state (read from the
// restarted server) equal what the acknowledged writes made, or, for the
// one write in flight, what it would have made: never a part of it. The
// rollout history's newest entry is the state's revision.
//
// Rounds continue on the restarted server, so later kills hit a store that
// has been recovered before. Every kill prints a line ("kill 3/12 seed 3
// at 0.41 s after 17 acknowledged writes, in flight: rollout update: ok"),
// the test a summary line.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "affinity/v1/admin.grpc.pb.h"
#include "affinity/v1/recommender.grpc.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "storage/catalog_store.h"
#include "storage/model_store.h"
#include "tests/server/server_process.h"
#include "tests/server/test_model.h"

namespace affinity {
namespace {

using affinity::v1::CatalogItem;
using affinity::v1::RolloutState;
using google::protobuf::util::MessageDifferencer;
using server::testing::kServerBinary;
using server::testing::LoggedPort;
using server::testing::ReadFile;
using server::testing::TestModel;
using server::testing::TmpDir;
using server::testing::WaitExit;
using server::testing::WaitForLog;

constexpr int kKills = 12;
constexpr int kCatalogIds = 80;

using Catalog = std::map<std::string, CatalogItem>;

// A running affinity-server with its admin and serving stubs.
class Server {
 public:
  // Starts it on the store and waits until it serves; nullptr (with the log
  // in `error`) when it does not.
  static std::unique_ptr<Server> Start(const std::string& db, const std::string& log,
                                       std::string* error) {
    auto s = std::unique_ptr<Server>(new Server);
    s->pid_ = server::testing::Spawn(
        {kServerBinary, "--db=" + db, "--listen=127.0.0.1:0", "--metrics_listen=",
         "--admin_listen=127.0.0.1:0", "--poll_ms=100", "--catalog_poll_ms=100"},
        log);
    WaitForLog(log, "routing (rollout revision");
    const std::string text = WaitForLog(log, "admin services on");
    const std::optional<int> port = LoggedPort(text, "started: grpc");
    const std::optional<int> admin = LoggedPort(text, "admin services on");
    if (!port.has_value() || !admin.has_value()) {
      *error = "server did not start: " + text;
      return nullptr;
    }
    auto channel = [](int p) {
      return grpc::CreateChannel(absl::StrCat("127.0.0.1:", p),
                                 grpc::InsecureChannelCredentials());
    };
    s->recommender_ = affinity::v1::Recommender::NewStub(channel(*port));
    const std::shared_ptr<grpc::Channel> admin_channel = channel(*admin);
    s->catalog_ = affinity::v1::CatalogAdmin::NewStub(admin_channel);
    s->rollout_ = affinity::v1::RolloutAdmin::NewStub(admin_channel);
    return s;
  }

  ~Server() {
    if (pid_ > 0) Stop(SIGKILL);
  }

  // Sends `signal` and returns the exit code (128 + signal when killed).
  int Stop(int signal) {
    recommender_.reset();
    catalog_.reset();
    rollout_.reset();
    kill(pid_, signal);
    const int code = WaitExit(pid_);
    pid_ = -1;
    return code;
  }

  pid_t pid() const { return pid_; }
  affinity::v1::CatalogAdmin::Stub& catalog() { return *catalog_; }
  affinity::v1::RolloutAdmin::Stub& rollout() { return *rollout_; }
  affinity::v1::Recommender::Stub& recommender() { return *recommender_; }

 private:
  Server() = default;

  pid_t pid_ = -1;
  std::unique_ptr<affinity::v1::Recommender::Stub> recommender_;
  std::unique_ptr<affinity::v1::CatalogAdmin::Stub> catalog_;
  std::unique_ptr<affinity::v1::RolloutAdmin::Stub> rollout_;
};

void SetDeadline(grpc::ClientContext* context) {
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
}

// One admin write: the request and what the state is once it applied.
struct Write {
  enum Kind { kUpsert, kDelete, kRollout } kind = kUpsert;
  affinity::v1::UpsertItemsRequest upsert;
  affinity::v1::DeleteItemsRequest remove;
  affinity::v1::UpdateRolloutRequest rollout;

  std::string Name() const {
    switch (kind) {
      case kUpsert: return absl::StrCat("upsert of ", upsert.items_size(), " items");
      case kDelete: return absl::StrCat("delete of ", remove.item_ids_size(), " items");
      default: return "rollout update";
    }
  }
  void ApplyTo(Catalog* catalog) const {
    if (kind == kUpsert) {
      for (const CatalogItem& item : upsert.items()) (*catalog)[item.item_id()] = item;
    } else if (kind == kDelete) {
      for (const std::string& id : remove.item_ids()) catalog->erase(id);
    }
  }
};

std::string CatalogId(int i) { return TestModel::ItemId(static_cast<uint32_t>(i)); }

// A seeded random write. Rollout changes name versions 1..3 (all published
// and eligible) and are computed from `rollout`, the last state known.
Write RandomWrite(std::mt19937* rng, const RolloutState& rollout, int n) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(*rng); };
  Write w;
  const int kind = pick(0, 9);
  if (kind < 4) {
    w.kind = Write::kUpsert;
    for (int i = pick(1, 6); i > 0; --i) {
      CatalogItem* item = w.upsert.add_items();
      item->set_item_id(CatalogId(pick(0, kCatalogIds - 1)));
      item->set_title(absl::StrCat("title ", n, "-", i));
      item->add_categories(absl::StrCat("g", pick(0, 4)));
      item->set_in_stock(pick(0, 1) == 1);
      if (pick(0, 1) == 1) item->set_price(pick(100, 9999) / 100.0);
      item->set_created_at_unix(1700000000 + n);
    }
  } else if (kind < 6) {
    w.kind = Write::kDelete;
    for (int i = pick(1, 4); i > 0; --i) {
      w.remove.add_item_ids(CatalogId(pick(0, kCatalogIds - 1)));
    }
  } else {
    w.kind = Write::kRollout;
    w.rollout.set_expected_revision(rollout.revision());
    RolloutState* next = w.rollout.mutable_state();
    next->set_salt(absl::StrCat("salt-", n));
    next->set_control_version(pick(0, 3));
    if (pick(0, 1) == 1) {
      affinity::v1::RolloutArm* arm = next->add_arms();
      arm->set_name("b");
      arm->set_version(pick(1, 3));
      arm->set_basis_points(pick(1, 5000));
    }
    if (pick(0, 2) == 0) {
      next->mutable_shadow()->set_version(pick(1, 3));
      next->mutable_shadow()->set_basis_points(pick(1, 10000));
    }
    next->set_previous_control_version(rollout.control_version());
    w.rollout.set_by("crash test");
    w.rollout.set_action("set");
    w.rollout.set_reason(absl::StrCat("write ", n));
  }
  return w;
}

// Sends the write; the gRPC status.
grpc::Status Send(Server& server, const Write& w, RolloutState* stored) {
  grpc::ClientContext context;
  SetDeadline(&context);
  if (w.kind == Write::kUpsert) {
    affinity::v1::UpsertItemsResponse response;
    return server.catalog().UpsertItems(&context, w.upsert, &response);
  }
  if (w.kind == Write::kDelete) {
    affinity::v1::DeleteItemsResponse response;
    return server.catalog().DeleteItems(&context, w.remove, &response);
  }
  affinity::v1::RolloutStatus response;
  const grpc::Status status = server.rollout().UpdateRollout(&context, w.rollout, &response);
  if (status.ok()) *stored = response.state();
  return status;
}

absl::StatusOr<Catalog> ReadCatalog(const std::string& db) {
  auto store = storage::CatalogStore::Open(db, storage::CatalogStore::Mode::kFollower);
  if (!store.ok()) return store.status();
  Catalog catalog;
  absl::Status s = (*store)->ForEach([&](const CatalogItem& item) {
    catalog[item.item_id()] = item;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  absl::StatusOr<int64_t> count = (*store)->Count();
  if (!count.ok()) return count.status();
  if (*count != static_cast<int64_t>(catalog.size())) {
    return absl::DataLossError(absl::StrCat("catalog count ", *count, " but ",
                                            catalog.size(), " items"));
  }
  return catalog;
}

std::string Describe(const Catalog& catalog) {
  std::vector<std::string> parts;
  for (const auto& [id, item] : catalog) parts.push_back(item.ShortDebugString());
  return absl::StrJoin(parts, " | ");
}

bool SameCatalog(const Catalog& a, const Catalog& b) {
  if (a.size() != b.size()) return false;
  for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j) {
    if (i->first != j->first || !MessageDifferencer::Equals(i->second, j->second)) return false;
  }
  return true;
}

// After a restart: checks the state against the acknowledged writes and the
// one in flight, and adopts what was found. Returns the failures.
// `landed` is set when the state is the one after the write in flight
// (and differs from the one before).
std::vector<std::string> CheckRecovered(Server& server, const std::string& db,
                                        const std::optional<Write>& in_flight,
                                        Catalog* catalog, RolloutState* rollout,
                                        bool* landed) {
  std::vector<std::string> failures;
  *landed = false;
  absl::StatusOr<Catalog> got = ReadCatalog(db);
  if (!got.ok()) {
    failures.push_back(absl::StrCat("catalog: ", got.status().ToString()));
  } else {
    Catalog after = *catalog;
    if (in_flight.has_value()) in_flight->ApplyTo(&after);
    if (SameCatalog(*got, *catalog)) {
    } else if (SameCatalog(*got, after)) {
      *catalog = after;
      *landed = true;
    } else {
      failures.push_back(absl::StrCat("catalog is neither the acknowledged state nor that ",
                                      "plus the write in flight: ", Describe(*got),
                                      " expected ", Describe(*catalog)));
      *catalog = *got;
    }
  }

  grpc::ClientContext context;
  SetDeadline(&context);
  affinity::v1::RolloutStatus status;
  const grpc::Status read =
      server.rollout().GetRollout(&context, affinity::v1::GetRolloutRequest(), &status);
  if (!read.ok()) {
    failures.push_back("GetRollout: " + read.error_message());
    return failures;
  }
  const RolloutState& state = status.state();
  if (state.revision() == rollout->revision()) {
    if (!MessageDifferencer::Equals(state, *rollout)) {
      failures.push_back(absl::StrCat("rollout revision ", state.revision(), " is ",
                                      state.ShortDebugString(), ", acknowledged as ",
                                      rollout->ShortDebugString()));
    }
  } else if (in_flight.has_value() && in_flight->kind == Write::kRollout &&
             state.revision() == rollout->revision() + 1) {
    RolloutState expected = in_flight->rollout.state();
    expected.set_revision(rollout->revision() + 1);
    expected.set_updated_by(in_flight->rollout.by());
    expected.set_updated_at_unix(state.updated_at_unix());
    *landed = true;
    if (!MessageDifferencer::Equals(state, expected)) {
      failures.push_back(absl::StrCat("rollout is a mix: ", state.ShortDebugString(),
                                      ", the write in flight was ",
                                      expected.ShortDebugString()));
    }
  } else {
    failures.push_back(absl::StrCat("rollout revision ", state.revision(), ", acknowledged ",
                                    rollout->revision()));
  }
  *rollout = state;

  grpc::ClientContext history_context;
  SetDeadline(&history_context);
  affinity::v1::RolloutHistoryRequest history_request;
  history_request.set_limit(1);
  affinity::v1::RolloutHistoryResponse history;
  const grpc::Status h =
      server.rollout().RolloutHistory(&history_context, history_request, &history);
  if (!h.ok()) {
    failures.push_back("RolloutHistory: " + h.error_message());
  } else if (state.revision() > 0 &&
             (history.changes_size() != 1 ||
              !MessageDifferencer::Equals(history.changes(0).after(), state))) {
    failures.push_back(absl::StrCat("rollout history's newest entry is not revision ",
                                    state.revision(), ": ", history.ShortDebugString()));
  }

  grpc::ClientContext recommend_context;
  SetDeadline(&recommend_context);
  affinity::v1::RecommendRequest request;
  request.set_user_id(TestModel::UserId(1));
  request.set_k(5);
  affinity::v1::RecommendResponse response;
  const grpc::Status r = server.recommender().Recommend(&recommend_context, request, &response);
  if (!r.ok()) failures.push_back("Recommend: " + r.error_message());
  return failures;
}

TEST(ServerKillTest, AfterEveryKillTheStateIsTheLastAcknowledgedWrite) {
  const std::string dir = TmpDir() + "/server_kill";
  const std::string db = dir + "/db";
  std::filesystem::create_directories(dir);
  {
    auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    for (uint32_t seed : {1, 2, 3}) {
      ASSERT_TRUE(server::testing::Publish(
                      store->get(), server::testing::MakeImplicitModel(seed, 20, 100, 8, 10))
                      .ok());
    }
    auto catalog = storage::CatalogStore::Open(db, storage::CatalogStore::Mode::kReadWrite);
    ASSERT_TRUE(catalog.ok()) << catalog.status();
    std::vector<CatalogItem> items;
    for (int i = 0; i < kCatalogIds; i += 2) {
      CatalogItem item;
      item.set_item_id(CatalogId(i));
      item.add_categories("g0");
      item.set_in_stock(true);
      items.push_back(item);
    }
    ASSERT_TRUE((*catalog)->Upsert(items).ok());
  }
  absl::StatusOr<Catalog> initial = ReadCatalog(db);
  ASSERT_TRUE(initial.ok()) << initial.status();
  Catalog catalog = *initial;
  RolloutState rollout;  // revision 0: never written

  std::string error;
  std::unique_ptr<Server> server = Server::Start(db, dir + "/server0.log", &error);
  ASSERT_NE(server, nullptr) << error;
  int failed_kills = 0, acknowledged = 0, writes_n = 0, landed_n = 0;
  for (int i = 1; i <= kKills; ++i) {
    const int seed = i;
    std::mt19937 rng(seed);
    const double delay = std::uniform_real_distribution<double>(0.05, 0.8)(rng);
    std::vector<std::string> failures;

    // The killer fires while the client keeps writing, one write at a time.
    std::atomic<bool> killed{false};
    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = server->pid();
    std::thread killer([&] {
      std::this_thread::sleep_until(start + std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                std::chrono::duration<double>(delay)));
      kill(pid, SIGKILL);
      killed = true;
    });
    std::optional<Write> in_flight;
    int acked = 0;
    while (true) {
      const Write w = RandomWrite(&rng, rollout, ++writes_n);
      RolloutState stored;
      const grpc::Status status = Send(*server, w, &stored);
      if (status.ok()) {
        ++acked;
        w.ApplyTo(&catalog);
        if (w.kind == Write::kRollout) rollout = stored;
        continue;
      }
      killer.join();  // once the server is gone
      if (!killed) {
        failures.push_back(absl::StrCat(w.Name(), " failed before the kill: ",
                                        status.error_message()));
      }
      in_flight = w;
      break;
    }
    const double at = std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                          .count();
    const int code = server->Stop(SIGKILL);
    if (code != 128 + SIGKILL) failures.push_back(absl::StrCat("server exited with ", code));
    acknowledged += acked;

    server = Server::Start(db, absl::StrCat(dir, "/server", i, ".log"), &error);
    bool landed = false;
    if (server == nullptr) {
      failures.push_back(error);
    } else {
      for (std::string& f :
           CheckRecovered(*server, db, in_flight, &catalog, &rollout, &landed)) {
        failures.push_back(std::move(f));
      }
    }
    landed_n += landed;
    std::printf("kill %d/%d seed %d at %.2f s after %d acknowledged writes, in flight: %s, "
                "%s (catalog %zu items, rollout revision %llu): %s\n",
                i, kKills, seed, at, acked, in_flight->Name().c_str(),
                landed ? "stored" : "not stored", catalog.size(),
                static_cast<unsigned long long>(rollout.revision()),
                failures.empty() ? "ok" : absl::StrJoin(failures, "; ").c_str());
    std::fflush(stdout);
    EXPECT_TRUE(failures.empty()) << "kill " << i << ": " << absl::StrJoin(failures, "; ");
    failed_kills += !failures.empty();
    if (server == nullptr) break;
  }
  if (server != nullptr) EXPECT_EQ(server->Stop(SIGTERM), 0);
  std::printf("server kills: %d, %d acknowledged writes, %d of the writes in flight stored, "
              "final catalog %zu items, rollout revision %llu, %d failed\n",
              kKills, acknowledged, landed_n, catalog.size(),
              static_cast<unsigned long long>(rollout.revision()), failed_kills);
}

}  // namespace
}  // namespace affinity
