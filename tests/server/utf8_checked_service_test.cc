// Utf8CheckedService as a gRPC service: it serves every method of the
// services it wraps, a well-formed call reaches the wrapped method with its
// context (deadline, metadata) and returns the method's status and
// response, a call with invalid UTF-8 never reaches it, and server
// reflection still lists the wrapped service.
#include "server/rpc/utf8_checked_service.h"

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "server/rpc/grpc_server.h"

namespace affinity::server {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

std::vector<std::string> DescriptorPaths(const char* service_name) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service_name);
  std::vector<std::string> paths;
  if (service == nullptr) return paths;
  for (int i = 0; i < service->method_count(); ++i) {
    paths.push_back("/" + service->full_name() + "/" + service->method(i)->name());
  }
  return paths;
}

// Answers Recommend with the request's user id as the arm, SimilarItems
// with NOT_FOUND, and records what it saw.
class FakeRecommender final : public affinity::v1::Recommender::Service {
 public:
  grpc::Status Recommend(grpc::ServerContext* context,
                         const affinity::v1::RecommendRequest* request,
                         affinity::v1::RecommendResponse* response) override {
    ++calls;
    std::lock_guard<std::mutex> lock(mu);
    const auto tag = context->client_metadata().find("x-tag");
    if (tag != context->client_metadata().end()) {
      seen_tag = std::string(tag->second.data(), tag->second.size());
    }
    seconds_left = std::chrono::duration<double>(context->deadline() -
                                                 std::chrono::system_clock::now())
                       .count();
    response->set_arm(request->user_id());
    response->set_model_version(static_cast<uint64_t>(request->k()));
    return grpc::Status::OK;
  }
  grpc::Status SimilarItems(grpc::ServerContext*, const affinity::v1::SimilarItemsRequest* request,
                            affinity::v1::RecommendResponse*) override {
    ++calls;
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no item " + request->item_id());
  }

  std::atomic<int> calls{0};
  // Written on a gRPC thread, read by the test once the call returned: that
  // handoff goes through gRPC's socket, which ThreadSanitizer cannot see.
  std::mutex mu;
  std::string seen_tag;
  double seconds_left = 0;
};

class FakeCatalogAdmin final : public affinity::v1::CatalogAdmin::Service {};

// grpc.reflection.v1alpha.ServerReflection's list_services answer, raw.
std::string ReflectionListServices(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](intptr_t want) {
    return cq.Next(&tag, &ok) && ok && reinterpret_cast<intptr_t>(tag) == want;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  if (!step(1)) return "";
  grpc::Slice slice(std::string("\x3a\x00", 2));  // list_services: ""
  grpc::ByteBuffer request(&slice, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  if (!step(2)) return "";
  call->WritesDone(reinterpret_cast<void*>(3));
  if (!step(3)) return "";
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(4));
  if (!step(4)) return "";
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(5);
  grpc::Slice out;
  if (!response.DumpToSingleSlice(&out).ok()) return "";
  return std::string(reinterpret_cast<const char*>(out.begin()), out.size());
}

TEST(Utf8CheckedServiceTest, ServesEveryMethodOfTheWrappedServices) {
  FakeRecommender recommender;
  FakeCatalogAdmin admin;
  EXPECT_THAT(Utf8CheckedRecommender(&recommender)->paths(),
              ElementsAreArray(DescriptorPaths("affinity.v1.Recommender")));
  EXPECT_THAT(Utf8CheckedCatalogAdmin(&admin)->paths(),
              ElementsAreArray(DescriptorPaths("affinity.v1.CatalogAdmin")));
  EXPECT_EQ(DescriptorPaths("affinity.v1.Recommender").size(), 3u);
}

TEST(Utf8CheckedServiceTest, PassesCallsThroughAndStopsInvalidText) {
  FakeRecommender recommender;
  std::unique_ptr<Utf8CheckedService> checked = Utf8CheckedRecommender(&recommender);
  auto server = GrpcServer::Start({"127.0.0.1:0", 0}, checked.get());
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = affinity::v1::Recommender::NewStub(channel);

  affinity::v1::RecommendRequest request;
  request.set_user_id("caf\xC3\xA9");
  request.set_k(7);
  affinity::v1::RecommendResponse response;
  grpc::ClientContext context;
  context.AddMetadata("x-tag", "abc");
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  ASSERT_TRUE(stub->Recommend(&context, request, &response).ok());
  EXPECT_EQ(response.arm(), "caf\xC3\xA9");
  EXPECT_EQ(response.model_version(), 7u);
  {
    std::lock_guard<std::mutex> lock(recommender.mu);
    EXPECT_EQ(recommender.seen_tag, "abc");
    EXPECT_GT(recommender.seconds_left, 10);
    // The deadline travels as a grpc-timeout header, which gRPC rounds up
    // to a coarser unit: the server may see a little more than 20 s.
    EXPECT_LE(recommender.seconds_left, 20.5);
  }

  affinity::v1::SimilarItemsRequest similar;
  similar.set_item_id("i9");
  grpc::ClientContext similar_context;
  const grpc::Status not_found = stub->SimilarItems(&similar_context, similar, &response);
  EXPECT_EQ(not_found.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(not_found.error_message(), "no item i9");

  // ReportOutcome is not implemented by the fake: the generated default.
  affinity::v1::ReportOutcomeRequest outcome;
  affinity::v1::ReportOutcomeResponse outcome_response;
  grpc::ClientContext outcome_context;
  EXPECT_EQ(stub->ReportOutcome(&outcome_context, outcome, &outcome_response).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);

  // Invalid UTF-8 in user_id (field 1): refused before the method runs.
  const int calls = recommender.calls;
  grpc::GenericStub generic(channel);
  grpc::Slice slice(std::string("\x0A\x03" "ab\xFF\x10\x01", 7));
  grpc::ByteBuffer raw(&slice, 1);
  grpc::ByteBuffer raw_response;
  grpc::ClientContext raw_context;
  std::promise<grpc::Status> done;
  generic.UnaryCall(&raw_context, "/affinity.v1.Recommender/Recommend", grpc::StubOptions(), &raw,
                    &raw_response, [&done](grpc::Status s) { done.set_value(std::move(s)); });
  const grpc::Status refused = done.get_future().get();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused.error_message(), "user_id: expected valid UTF-8, got byte 0xFF at offset 2");
  EXPECT_EQ(recommender.calls, calls);

  EXPECT_THAT(ReflectionListServices(channel), HasSubstr("affinity.v1.Recommender"));
  (*server)->Shutdown(std::chrono::milliseconds(0));
}

}  // namespace
}  // namespace affinity::server
