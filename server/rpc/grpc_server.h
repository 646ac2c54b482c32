// GrpcServer: runs a gRPC service with the standard grpc.health.v1.Health
// service and (unless turned off) server reflection. Health starts
// NOT_SERVING for "" and "affinity.v1.Recommender"; SetServing flips both.
// ConfigureListener gives another server (the admin port) the same
// credentials, reflection choice and message size limit.
//
// Overload: with `threads` > 0 at most that many calls are worked on at
// once; a call arriving while every request thread is busy is answered
// RESOURCE_EXHAUSTED ("Server Threadpool Exhausted") at once by gRPC itself,
// without reaching the service, and reported to `on_refused`. Health checks
// are answered on a thread of their own and keep answering.
#ifndef AFFINITY_SERVER_RPC_GRPC_SERVER_H_
#define AFFINITY_SERVER_RPC_GRPC_SERVER_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"

namespace affinity::server {

inline constexpr char kRecommenderServiceName[] = "affinity.v1.Recommender";

struct GrpcServerOptions {
  // "HOST:PORT"; port 0 picks a free port (see port()). The address is not
  // shared (no SO_REUSEPORT): Start fails when another process listens on it.
  std::string listen = "127.0.0.1:50051";
  // Upper bound on threads serving requests; 0 leaves gRPC's default (a
  // thread per concurrent call, however many). With a bound, calls arriving
  // while every thread is busy are rejected with RESOURCE_EXHAUSTED, which
  // clients may retry; micro-batching needs at least as many threads as the
  // requests it should gather.
  int threads = 0;
  // Called (on a gRPC thread, so it must be cheap and thread-safe) for every
  // call answered RESOURCE_EXHAUSTED; may be empty.
  std::function<void()> on_refused;
  // Plaintext when null; server_credentials.h makes TLS ones.
  std::shared_ptr<grpc::ServerCredentials> credentials;
  // Serve grpc.reflection.v1 and v1alpha ServerReflection on this port.
  bool reflection = true;
  // Largest request message accepted, in bytes; a larger one is answered
  // RESOURCE_EXHAUSTED before it is parsed. 0: gRPC's default (4 MiB).
  int max_message_bytes = 0;
};

// Makes `builder` listen on options.listen (no SO_REUSEPORT) with the
// options' credentials, reflection choice and message size limit; the port
// bound is written to *port by BuildAndStart.
void ConfigureListener(const GrpcServerOptions& options, grpc::ServerBuilder* builder, int* port);

// The default bound on request threads: 64 per core. A request waiting for
// its scoring pass holds its thread without using a core, so the bound is
// set by how many may wait (batching), not by the cores.
int DefaultServingThreads();

class GrpcServer {
 public:
  // `service` must outlive the server.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(const GrpcServerOptions& options,
                                                           grpc::Service* service);
  ~GrpcServer();

  int port() const { return port_; }
  void SetServing(bool serving);
  // Stops accepting calls, lets in-flight calls finish until `grace`
  // passes (then cancels them), and waits for the server to stop.
  void Shutdown(std::chrono::milliseconds grace);

 private:
  GrpcServer() = default;
  std::function<void()> on_refused_;  // declared first: outlives server_
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_RPC_GRPC_SERVER_H_
