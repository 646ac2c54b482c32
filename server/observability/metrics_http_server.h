// MetricsHttpServer: a small civetweb HTTP server for operators. Serves
//   GET /metrics  the Prometheus text rendered by a callback;
//   GET /healthz  200 "ok" when the ready callback says so, else 503.
// Stops (joining civetweb's threads) when destroyed.
#ifndef AFFINITY_SERVER_OBSERVABILITY_METRICS_HTTP_SERVER_H_
#define AFFINITY_SERVER_OBSERVABILITY_METRICS_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

struct mg_context;
struct mg_connection;

namespace affinity::server {

class MetricsHttpServer {
 public:
  struct Handlers {
    std::function<std::string()> metrics;
    std::function<bool()> ready;
  };

  // listen: "HOST:PORT"; port 0 picks a free port (see port()).
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& listen, Handlers handlers);
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  int port() const { return port_; }

 private:
  explicit MetricsHttpServer(Handlers handlers) : handlers_(std::move(handlers)) {}
  static int HandleMetrics(::mg_connection* conn, void* self);
  static int HandleHealthz(::mg_connection* conn, void* self);

  Handlers handlers_;
  mg_context* context_ = nullptr;
  int port_ = 0;
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_OBSERVABILITY_METRICS_HTTP_SERVER_H_
