#include "server/rpc/grpc_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/support/server_interceptor.h>

#include <algorithm>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/rpc/reflection_v1.h"

namespace affinity::server {
namespace {

// Drops the reflection plugin gRPC adds to every ServerBuilder.
class WithoutReflection final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->erase(std::remove_if(plugins->begin(), plugins->end(),
                                  [](const std::unique_ptr<grpc::ServerBuilderPlugin>& plugin) {
                                    return plugin->name() == "proto_server_reflection";
                                  }),
                   plugins->end());
  }
};

namespace gx = grpc::experimental;

// Reports every call whose status is RESOURCE_EXHAUSTED, including those
// gRPC refuses itself when every request thread is busy (interceptors run
// for them too, before the status is sent).
class RefusalInterceptor final : public gx::Interceptor {
 public:
  explicit RefusalInterceptor(const std::function<void()>* on_refused)
      : on_refused_(on_refused) {}
  void Intercept(gx::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(gx::InterceptionHookPoints::PRE_SEND_STATUS) &&
        methods->GetSendStatus().error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      (*on_refused_)();
    }
    methods->Proceed();
  }

 private:
  const std::function<void()>* on_refused_;
};

class RefusalInterceptorFactory final : public gx::ServerInterceptorFactoryInterface {
 public:
  explicit RefusalInterceptorFactory(const std::function<void()>* on_refused)
      : on_refused_(on_refused) {}
  gx::Interceptor* CreateServerInterceptor(gx::ServerRpcInfo*) override {
    return new RefusalInterceptor(on_refused_);
  }

 private:
  const std::function<void()>* on_refused_;
};

}  // namespace

void ConfigureListener(const GrpcServerOptions& options, grpc::ServerBuilder* builder, int* port) {
  // Registers the reflection plugin (for builders made after this call);
  // calling it also keeps the linker from dropping grpc++_reflection's
  // static initializer.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  if (options.reflection) {
    builder->SetOption(ReflectionV1Option());  // v1 beside gRPC's v1alpha
  } else {
    builder->SetOption(std::make_unique<WithoutReflection>());
  }
  // Without SO_REUSEPORT a second server on the same address fails to
  // start instead of sharing the port (and its clients) with this one.
  builder->AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder->AddListeningPort(options.listen,
                            options.credentials != nullptr ? options.credentials
                                                           : grpc::InsecureServerCredentials(),
                            port);
  if (options.max_message_bytes > 0) builder->SetMaxReceiveMessageSize(options.max_message_bytes);
}

int DefaultServingThreads() {
  return 64 * std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const GrpcServerOptions& options, grpc::Service* service) {
  grpc::EnableDefaultHealthCheckService(true);
  // Before the builder exists: it takes the plugins registered by then.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  std::unique_ptr<GrpcServer> server(new GrpcServer());
  grpc::ServerBuilder builder;
  ConfigureListener(options, &builder, &server->port_);
  builder.RegisterService(service);
  if (options.on_refused) {
    server->on_refused_ = options.on_refused;
    std::vector<std::unique_ptr<gx::ServerInterceptorFactoryInterface>> interceptors;
    interceptors.push_back(std::make_unique<RefusalInterceptorFactory>(&server->on_refused_));
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  if (options.threads > 0) {
    grpc::ResourceQuota quota("affinity-server");
    quota.SetMaxThreads(options.threads + 2);  // + completion-queue pollers
    builder.SetResourceQuota(quota);
    builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                                options.threads);
  }
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("--listen: cannot listen on \"", options.listen,
                     "\" (in use by another process, or not an address of this host)"));
  }
  server->SetServing(false);
  return server;
}

GrpcServer::~GrpcServer() { Shutdown(std::chrono::milliseconds(0)); }

void GrpcServer::SetServing(bool serving) {
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus("", serving);
  health->SetServingStatus(kRecommenderServiceName, serving);
}

void GrpcServer::Shutdown(std::chrono::milliseconds grace) {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  SetServing(false);
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
}

}  // namespace affinity::server
