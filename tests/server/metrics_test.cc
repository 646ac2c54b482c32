// Prometheus text rendering of the server's metrics, and the HTTP endpoint.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"
#include "server/observability/metrics.h"
#include "server/observability/metrics_http_server.h"

namespace affinity::server {
namespace {

bool Contains(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(HistogramTest, BucketsAreCumulative) {
  Histogram h({0.1, 1.0});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(0.5);
  h.Observe(7);
  std::string out;
  h.Render("x", "m=\"a\"", &out);
  EXPECT_TRUE(Contains(out, "x_bucket{m=\"a\",le=\"0.1\"} 1\n")) << out;
  EXPECT_TRUE(Contains(out, "x_bucket{m=\"a\",le=\"1\"} 3\n")) << out;
  EXPECT_TRUE(Contains(out, "x_bucket{m=\"a\",le=\"+Inf\"} 4\n")) << out;
  EXPECT_TRUE(Contains(out, "x_count{m=\"a\"} 4\n")) << out;
  EXPECT_TRUE(Contains(out, "x_sum{m=\"a\"} 8.0500000000000007\n")) << out;
}

TEST(ServerMetricsTest, RendersStagesAndPasses) {
  ServerMetrics m;
  m.RecordStage(ServerMetrics::kScan, 0.25);
  m.RecordStage(ServerMetrics::kScan, 0.5);
  m.RecordStage(ServerMetrics::kUserLookup, 0.00002);
  m.RecordPass(1, 0.001);
  m.RecordPass(20, 0.003);
  EXPECT_EQ(m.stage_count(ServerMetrics::kScan), 2u);
  EXPECT_EQ(m.passes(), 2u);
  const std::string text = m.Render();
  EXPECT_TRUE(Contains(text, "affinity_stage_latency_seconds_count{stage=\"scan\"} 2\n")) << text;
  EXPECT_TRUE(Contains(text, "affinity_stage_latency_seconds_sum{stage=\"scan\"} 0.75\n"));
  EXPECT_TRUE(Contains(
      text, "affinity_stage_latency_seconds_bucket{stage=\"user_lookup\",le=\"2.5e-05\"} 1\n"));
  for (const char* stage :
       {"user_lookup", "fold_in", "queue", "rerank", "rules", "serialize"}) {
    EXPECT_TRUE(Contains(text, std::string("affinity_stage_latency_seconds_count{stage=\"") +
                                   stage + "\"}"))
        << stage;
  }
  EXPECT_TRUE(Contains(text, "affinity_scoring_batch_size_bucket{le=\"1\"} 1\n"));
  EXPECT_TRUE(Contains(text, "affinity_scoring_batch_size_bucket{le=\"16\"} 1\n"));
  EXPECT_TRUE(Contains(text, "affinity_scoring_batch_size_bucket{le=\"32\"} 2\n"));
  EXPECT_TRUE(Contains(text, "affinity_scoring_batch_size_count 2\n"));
  EXPECT_TRUE(Contains(text, "affinity_scoring_pass_seconds_count 2\n"));
}

TEST(ServerMetricsTest, RendersCountersByMethodAndCode) {
  ServerMetrics m;
  m.RecordRequest(ServerMetrics::kRecommend, 0, 0.001);
  m.RecordRequest(ServerMetrics::kRecommend, 0, 0.002);
  m.RecordRequest(ServerMetrics::kRecommend, 3, 0.0001);
  m.RecordRequest(ServerMetrics::kSimilarItems, 5, 0.0001);
  m.AddFallback();
  m.AddShed();
  m.AddShed();
  m.AddItemsScored(1000);
  m.AddUnknownRecentItems(2);
  m.RecordModelLoad(7, 1.5);
  m.SetLoadedModels({{"control", 7}});
  const std::string text = m.Render();
  EXPECT_TRUE(Contains(text, "affinity_requests_total{method=\"Recommend\",code=\"OK\"} 2\n"));
  EXPECT_TRUE(Contains(
      text, "affinity_requests_total{method=\"Recommend\",code=\"INVALID_ARGUMENT\"} 1\n"));
  EXPECT_TRUE(
      Contains(text, "affinity_requests_total{method=\"SimilarItems\",code=\"NOT_FOUND\"} 1\n"));
  EXPECT_TRUE(Contains(text, "affinity_request_latency_seconds_count{method=\"Recommend\"} 3\n"));
  EXPECT_TRUE(Contains(text, "affinity_fallback_total 1\n"));
  EXPECT_TRUE(Contains(text, "affinity_requests_shed_total 2\n"));
  EXPECT_TRUE(Contains(text, "affinity_items_scored_total 1000\n"));
  EXPECT_TRUE(Contains(text, "affinity_unknown_recent_items_total 2\n"));
  EXPECT_TRUE(Contains(text, "affinity_model_loaded{arm=\"control\",version=\"7\"} 1\n"));
  EXPECT_TRUE(Contains(text, "affinity_model_load_seconds{version=\"7\"} 1.5\n"));
  EXPECT_TRUE(Contains(text, "# TYPE affinity_request_latency_seconds histogram\n"));

  m.SetLoadedModels({{"control", 8}});
  EXPECT_FALSE(Contains(m.Render(), "version=\"7\""));
}

std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return "";
  }
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  (void)!write(fd, request.data(), request.size());
  std::string response;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) response.append(buf, n);
  close(fd);
  return response;
}

TEST(MetricsHttpServerTest, ServesMetricsAndHealth) {
  bool ready = false;
  auto server = MetricsHttpServer::Start(
      "127.0.0.1:0", {[] { return std::string("affinity_fallback_total 3\n"); },
                      [&] { return ready; }});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);
  const std::string metrics = HttpGet((*server)->port(), "/metrics");
  EXPECT_EQ(metrics.rfind("HTTP/1.1 200", 0), 0u) << metrics;
  EXPECT_TRUE(Contains(metrics, "text/plain; version=0.0.4"));
  EXPECT_TRUE(Contains(metrics, "affinity_fallback_total 3\n"));
  EXPECT_EQ(HttpGet((*server)->port(), "/healthz").rfind("HTTP/1.1 503", 0), 0u);
  ready = true;
  EXPECT_EQ(HttpGet((*server)->port(), "/healthz").rfind("HTTP/1.1 200", 0), 0u);
}

}  // namespace
}  // namespace affinity::server
