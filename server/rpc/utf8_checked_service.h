// Utf8CheckedService: a grpc::Service that serves the unary methods of
// generated synchronous services, parsing each request itself.
//
// Why: a request whose proto3 string field holds bytes that are not UTF-8
// cannot be parsed by protobuf, and gRPC answers it INTERNAL with an empty
// message before any handler runs. Here such a request is answered
// INVALID_ARGUMENT naming the field as request validation does
// ("recent[1].item_id: expected valid UTF-8, got byte 0xE9 at offset 3",
// see utf8_fields.h), and bytes that are no message of the request type
// INVALID_ARGUMENT "request: ...". A well-formed request reaches the
// wrapped method exactly as through the generated service: same
// ServerContext (deadline, metadata), same status and response.
//
// Usage: register the Utf8Checked* service in place of the generated one;
// the wrapped service must outlive it. A method added with `on_sent` calls
// it after each call with the seconds spent once the method returned:
// serializing the response and handing it to gRPC's transport. Building it is not thread-safe;
// serving is as thread-safe as the wrapped methods. Built on gRPC's
// method-handler interface, the one generated services use.
#ifndef AFFINITY_SERVER_RPC_UTF8_CHECKED_SERVICE_H_
#define AFFINITY_SERVER_RPC_UTF8_CHECKED_SERVICE_H_

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpc/grpc.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/method_handler.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "affinity/v1/admin.grpc.pb.h"
#include "affinity/v1/recommender.grpc.pb.h"
#include "google/protobuf/message.h"

namespace affinity::server {

namespace utf8_checked_internal {

// Reads every byte of `buffer` (decompressed) and destroys it, as gRPC's
// own deserialization does; then checks the string fields and parses the
// bytes into `request`.
grpc::Status ParseRequest(grpc_byte_buffer* buffer, google::protobuf::Message* request);

// Seconds the last method call on this thread took (set by UnaryHandler).
inline thread_local double last_method_seconds = 0;

template <class ServiceT, class Request, class Response>
class UnaryHandler final : public grpc::internal::MethodHandler {
 public:
  using Method = grpc::Status (ServiceT::*)(grpc::ServerContext*, const Request*, Response*);

  UnaryHandler(ServiceT* service, Method method, std::function<void(double)> on_sent)
      : inner_(
            [method](ServiceT* s, grpc::ServerContext* context, const Request* request,
                     Response* response) {
              const auto start = std::chrono::steady_clock::now();
              grpc::Status status = (s->*method)(context, request, response);
              last_method_seconds =
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                      .count();
              return status;
            },
            service),
        on_sent_(std::move(on_sent)) {}

  // The request deserialized below, or its failure, through the generated
  // handler's code path (which sends the response before it returns).
  void RunHandler(const HandlerParameter& param) override {
    const auto start = std::chrono::steady_clock::now();
    last_method_seconds = -1;  // the method did not run (bad request)
    inner_.RunHandler(param);
    if (!on_sent_ || last_method_seconds < 0) return;
    const double total =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    on_sent_(std::max(0.0, total - last_method_seconds));
  }

  void* Deserialize(grpc_call* call, grpc_byte_buffer* buffer, grpc::Status* status,
                    void** /*handler_data*/) override {
    // In the call's arena, as generated handlers do; RunHandler destroys it.
    auto* request = new (grpc_call_arena_alloc(call, sizeof(Request))) Request;
    *status = ParseRequest(buffer, request);
    if (status->ok()) return request;
    request->~Request();
    return nullptr;
  }

 private:
  grpc::internal::RpcMethodHandler<ServiceT, Request, Response, grpc::protobuf::MessageLite,
                                   grpc::protobuf::MessageLite>
      inner_;
  std::function<void(double)> on_sent_;
};

}  // namespace utf8_checked_internal

class Utf8CheckedService final : public grpc::Service {
 public:
  Utf8CheckedService() = default;
  Utf8CheckedService(const Utf8CheckedService&) = delete;
  Utf8CheckedService& operator=(const Utf8CheckedService&) = delete;

  // Serves "/SERVICE_NAME/METHOD_NAME" with `method` of `service`;
  // `on_sent` (may be empty) as in the file comment.
  template <class ServiceT, class Request, class Response>
  void AddUnary(ServiceT* service,
                grpc::Status (ServiceT::*method)(grpc::ServerContext*, const Request*, Response*),
                absl::string_view service_name, absl::string_view method_name,
                std::function<void(double)> on_sent = nullptr) {
    paths_.push_back(absl::StrCat("/", service_name, "/", method_name));
    AddMethod(new grpc::internal::RpcServiceMethod(
        paths_.back().c_str(), grpc::internal::RpcMethod::NORMAL_RPC,
        new utf8_checked_internal::UnaryHandler<ServiceT, Request, Response>(
            service, method, std::move(on_sent))));
  }

  // The paths served, in the order added.
  std::vector<std::string> paths() const { return {paths_.begin(), paths_.end()}; }

 private:
  std::deque<std::string> paths_;  // stable addresses: gRPC keeps the char*
};

// affinity.v1.Recommender: Recommend, SimilarItems and ReportOutcome of
// `service`; `on_sent` (may be empty) is given the response-sending time of
// every Recommend and SimilarItems call.
std::unique_ptr<Utf8CheckedService> Utf8CheckedRecommender(
    affinity::v1::Recommender::Service* service,
    std::function<void(double)> on_sent = nullptr);

// affinity.v1.CatalogAdmin: UpsertItems and DeleteItems of `service`.
std::unique_ptr<Utf8CheckedService> Utf8CheckedCatalogAdmin(
    affinity::v1::CatalogAdmin::Service* service);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_RPC_UTF8_CHECKED_SERVICE_H_
