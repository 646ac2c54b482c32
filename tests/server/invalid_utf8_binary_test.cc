// The affinity-server binary receiving string fields that are not UTF-8:
// raw request bytes (a generated client would not serialize them) sent to
// every Recommender method and to the CatalogAdmin writes are answered
// INVALID_ARGUMENT naming the field, the same bytes made valid are served,
// and the server keeps serving.
#include <signal.h>

#include <chrono>
#include <future>
#include <optional>
#include <string>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "affinity/v1/admin.pb.h"
#include "affinity/v1/recommender.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/unknown_field_set.h"
#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "tests/server/server_process.h"
#include "tests/server/test_model.h"

namespace affinity::server {
namespace {

using ::testing::HasSubstr;
using testing::kServerBinary;
using testing::LoggedPort;
using testing::Spawn;
using testing::TmpDir;
using testing::WaitExit;
using testing::WaitForLog;

// Request bytes written field by field.
class Wire {
 public:
  Wire& Bytes(int field, const std::string& value) {
    google::protobuf::UnknownFieldSet one;
    one.AddLengthDelimited(field, value);
    return Append(one);
  }
  Wire& Message(int field, const Wire& nested) { return Bytes(field, nested.str()); }
  Wire& Varint(int field, uint64_t value) {
    google::protobuf::UnknownFieldSet one;
    one.AddVarint(field, value);
    return Append(one);
  }
  const std::string& str() const { return bytes_; }

 private:
  Wire& Append(const google::protobuf::UnknownFieldSet& one) {
    std::string field;
    EXPECT_TRUE(one.SerializeToString(&field));
    bytes_ += field;
    return *this;
  }
  std::string bytes_;
};

// One unary call with raw request bytes; *response gets the raw answer.
grpc::Status RawCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                     const std::string& request, std::string* response = nullptr) {
  grpc::GenericStub stub(channel);
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request_buffer, &response_buffer,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  grpc::Status status = done.get_future().get();
  if (status.ok() && response != nullptr) {
    grpc::Slice answer;
    EXPECT_TRUE(response_buffer.DumpToSingleSlice(&answer).ok());
    response->assign(reinterpret_cast<const char*>(answer.begin()), answer.size());
  }
  return status;
}

class InvalidUtf8BinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string db = TmpDir() + "/db";
    model_ = testing::MakeImplicitModel(5, 20, 50, 4, 8);
    {
      auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kReadWrite);
      ASSERT_TRUE(store.ok()) << store.status();
      ASSERT_TRUE(testing::Publish(store->get(), model_).ok());
    }
    log_ = TmpDir() + "/server.log";
    pid_ = Spawn({kServerBinary, "--db=" + db, "--listen=127.0.0.1:0", "--metrics_listen=",
                  "--admin_listen=127.0.0.1:0", "--poll_ms=100", "--noevents"},
                 log_);
    const std::string text = WaitForLog(log_, "routing (rollout revision");
    const std::optional<int> grpc_port = LoggedPort(text, "started: grpc");
    ASSERT_TRUE(grpc_port.has_value()) << text;
    const std::string admin = WaitForLog(log_, "admin services on");
    const std::optional<int> admin_port = LoggedPort(admin, "admin services on");
    ASSERT_TRUE(admin_port.has_value()) << admin;
    serving_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(*grpc_port),
                                   grpc::InsecureChannelCredentials());
    admin_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(*admin_port),
                                 grpc::InsecureChannelCredentials());
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      EXPECT_EQ(WaitExit(pid_), 0);
    }
  }

  void ExpectRefused(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                     const Wire& request, const std::string& message) {
    const grpc::Status status = RawCall(channel, method, request.str());
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << method << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(message)) << method;
  }

  testing::TestModel model_;
  std::string log_;
  pid_t pid_ = -1;
  std::shared_ptr<grpc::Channel> serving_;
  std::shared_ptr<grpc::Channel> admin_;
};

TEST_F(InvalidUtf8BinaryTest, EveryStringFieldIsInvalidArgumentNamingIt) {
  const std::string user = testing::TestModel::UserId(1);
  const std::string bad = "Jos\xE9";  // Windows-1252
  const char* recommend = "/affinity.v1.Recommender/Recommend";
  const char* similar = "/affinity.v1.Recommender/SimilarItems";
  const char* outcome = "/affinity.v1.Recommender/ReportOutcome";

  // The same request with valid text is served.
  std::string answer;
  ASSERT_TRUE(RawCall(serving_, recommend, Wire().Bytes(1, user).Varint(2, 3).str(), &answer).ok());
  affinity::v1::RecommendResponse response;
  ASSERT_TRUE(response.ParseFromString(answer));
  EXPECT_EQ(response.items_size(), 3);

  ExpectRefused(serving_, recommend, Wire().Bytes(1, bad).Varint(2, 3),
                "user_id: expected valid UTF-8, got byte 0xE9 at offset 3");
  ExpectRefused(serving_, recommend,
                Wire().Bytes(1, user).Varint(2, 3).Message(3, Wire().Bytes(1, "\xC0\xAF")),
                "recent[0].item_id: expected valid UTF-8");
  ExpectRefused(serving_, recommend,
                Wire().Bytes(1, user).Varint(2, 3).Bytes(4, "item-1").Bytes(4, bad),
                "exclude_item_ids[1]: expected valid UTF-8");
  ExpectRefused(serving_, recommend, Wire().Bytes(1, user).Varint(2, 3).Bytes(5, bad),
                "rule_set: expected valid UTF-8");
  ExpectRefused(serving_, recommend,
                Wire().Bytes(1, user).Varint(2, 3).Message(7, Wire().Bytes(2, bad)),
                "filters[0].any_of[0]: expected valid UTF-8");
  ExpectRefused(serving_, recommend, Wire().Varint(2, 3).Bytes(8, "\xED\xA0\x80"),
                "session_id: expected valid UTF-8");
  ExpectRefused(serving_, recommend, Wire().Bytes(1, user).Varint(2, 3).Bytes(9, bad),
                "arm: expected valid UTF-8");
  ExpectRefused(serving_, similar, Wire().Bytes(1, bad).Varint(2, 3),
                "item_id: expected valid UTF-8");
  ExpectRefused(serving_, similar, Wire().Bytes(1, "item-1").Varint(2, 3).Bytes(3, bad),
                "exclude_item_ids[0]: expected valid UTF-8");
  ExpectRefused(serving_, outcome,
                Wire().Message(1, Wire().Bytes(1, "r").Bytes(5, "item-1"))
                    .Message(1, Wire().Bytes(1, "r").Bytes(5, bad)),
                "outcomes[1].item_id: expected valid UTF-8");
  // Bytes that are no message at all: user_id longer than what follows.
  const grpc::Status truncated = RawCall(serving_, recommend, std::string("\x0A\x09" "abc", 5));
  EXPECT_EQ(truncated.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(truncated.error_message(),
              HasSubstr("request: expected a serialized affinity.v1.RecommendRequest"));

  // Catalog writes on the admin port.
  ExpectRefused(admin_, "/affinity.v1.CatalogAdmin/UpsertItems",
                Wire().Message(1, Wire().Bytes(1, "new-1").Bytes(2, "Caf\xE9")),
                "items[0].title: expected valid UTF-8, got byte 0xE9 at offset 3");
  ExpectRefused(admin_, "/affinity.v1.CatalogAdmin/DeleteItems",
                Wire().Bytes(1, "item-1").Bytes(1, bad), "item_ids[1]: expected valid UTF-8");
  // A valid write still goes through.
  ASSERT_TRUE(RawCall(admin_, "/affinity.v1.CatalogAdmin/UpsertItems",
                      Wire().Message(1, Wire().Bytes(1, "new-1").Bytes(2, "Caf\xC3\xA9")).str(),
                      &answer)
                  .ok());
  affinity::v1::UpsertItemsResponse upserted;
  ASSERT_TRUE(upserted.ParseFromString(answer));
  EXPECT_EQ(upserted.upserted(), 1);

  // Still serving.
  EXPECT_TRUE(RawCall(serving_, recommend, Wire().Bytes(1, user).Varint(2, 2).str()).ok());
}

}  // namespace
}  // namespace affinity::server
