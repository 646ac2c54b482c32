// The real affinity-server binary and `affinity` CLI as child processes
// for the rollout binary tests (both are data dependencies of the test):
// a server is started on free loopback ports with its own --instance and
// is ready once it logged its first routing table; Recommend and
// ReportOutcome go to it over gRPC; Stop sends a signal and reaps it.
// Failures are returned as absl::Status; nothing throws. Not thread-safe.
#ifndef AFFINITY_TESTS_SERVER_ROLLOUT_SERVER_CHILD_H_
#define AFFINITY_TESTS_SERVER_ROLLOUT_SERVER_CHILD_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "affinity/v1/recommender.grpc.pb.h"

namespace affinity::server::testing {

// Path of the CLI relative to the test's runfiles directory.
inline constexpr char kCliBinary[] = "tools/affinity";

class ServerChild {
 public:
  // Starts `affinity-server --db=DIR --instance=INSTANCE` on port 0 with the
  // metrics and admin listeners off, plus `extra_flags`, and waits (up to
  // 30 s) for its first routing table. The log is TMP/<instance>.<n>.log.
  static absl::StatusOr<std::unique_ptr<ServerChild>> Start(
      const std::string& db, const std::string& instance,
      const std::vector<std::string>& extra_flags = {});
  // Kills a server still running (SIGKILL) and reaps it.
  ~ServerChild();

  // Closes the client channel, sends `signal` and returns the exit code
  // (128 + signal when killed). No call may be made afterwards.
  int Stop(int signal);

  grpc::Status Recommend(const affinity::v1::RecommendRequest& request,
                         affinity::v1::RecommendResponse* response);
  grpc::Status ReportOutcome(const affinity::v1::ReportOutcomeRequest& request,
                             affinity::v1::ReportOutcomeResponse* response);

  const std::string& instance() const { return instance_; }
  const std::string& log() const { return log_; }
  int port() const { return port_; }

 private:
  ServerChild() = default;

  pid_t pid_ = 0;
  std::string instance_;
  std::string log_;
  int port_ = 0;
  std::unique_ptr<affinity::v1::Recommender::Stub> stub_;
};

struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `affinity ARGS...` to completion.
CliResult RunCli(const std::vector<std::string>& args);

}  // namespace affinity::server::testing

#endif  // AFFINITY_TESTS_SERVER_ROLLOUT_SERVER_CHILD_H_
