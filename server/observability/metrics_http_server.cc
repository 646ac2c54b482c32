#include "server/observability/metrics_http_server.h"

#include <civetweb.h>

#include <mutex>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace affinity::server {
namespace {

void Reply(struct mg_connection* conn, int status, const char* content_type,
           const std::string& body) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Connection: close\r\n\r\n",
            status, mg_get_response_code_text(conn, status), content_type, body.size());
  mg_write(conn, body.data(), body.size());
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& listen, Handlers handlers) {
  static std::once_flag init_once;
  std::call_once(init_once, [] { mg_init_library(0); });
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer(std::move(handlers)));
  const char* options[] = {"listening_ports", listen.c_str(), "num_threads", "2",
                           nullptr};
  struct mg_callbacks callbacks = {};
  server->context_ = mg_start(&callbacks, nullptr, options);
  if (server->context_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("--metrics_listen: cannot listen on \"", listen, "\""));
  }
  mg_set_request_handler(server->context_, "/metrics$", &HandleMetrics, server.get());
  mg_set_request_handler(server->context_, "/healthz$", &HandleHealthz, server.get());
  struct mg_server_port ports[4] = {};
  if (mg_get_server_ports(server->context_, 4, ports) > 0) server->port_ = ports[0].port;
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (context_ != nullptr) mg_stop(context_);
}

int MetricsHttpServer::HandleMetrics(struct mg_connection* conn, void* self) {
  auto* server = static_cast<MetricsHttpServer*>(self);
  Reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8", server->handlers_.metrics());
  return 200;
}

int MetricsHttpServer::HandleHealthz(struct mg_connection* conn, void* self) {
  auto* server = static_cast<MetricsHttpServer*>(self);
  const bool ready = server->handlers_.ready && server->handlers_.ready();
  Reply(conn, ready ? 200 : 503, "text/plain; charset=utf-8",
        ready ? "ok\n" : "no model loaded\n");
  return ready ? 200 : 503;
}

}  // namespace affinity::server
