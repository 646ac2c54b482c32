#include "tests/server/rollout/server_child.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "tests/server/server_process.h"

namespace affinity::server::testing {
namespace {

int next_log = 0;

}  // namespace

absl::StatusOr<std::unique_ptr<ServerChild>> ServerChild::Start(
    const std::string& db, const std::string& instance,
    const std::vector<std::string>& extra_flags) {
  std::unique_ptr<ServerChild> child(new ServerChild());
  child->instance_ = instance;
  child->log_ = absl::StrCat(TmpDir(), "/", instance, ".", next_log++, ".log");
  std::vector<std::string> args = {kServerBinary,          "--db=" + db,
                                   "--instance=" + instance, "--listen=127.0.0.1:0",
                                   "--metrics_listen=",    "--admin_listen="};
  args.insert(args.end(), extra_flags.begin(), extra_flags.end());
  child->pid_ = Spawn(args, child->log_);
  const std::string text = WaitForLog(child->log_, "routing (rollout revision");
  if (text.find("routing (rollout revision") == std::string::npos) {
    return absl::DeadlineExceededError(
        absl::StrCat("server ", instance, " did not route within 30 s; its log:\n", text));
  }
  const std::optional<int> port = LoggedPort(text, "started: grpc");
  if (!port.has_value()) {
    return absl::InternalError(absl::StrCat("no gRPC port in the log of ", instance, ":\n", text));
  }
  child->port_ = *port;
  child->stub_ = affinity::v1::Recommender::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", *port), grpc::InsecureChannelCredentials()));
  return child;
}

ServerChild::~ServerChild() {
  if (pid_ > 0) Stop(SIGKILL);
}

int ServerChild::Stop(int signal) {
  if (pid_ <= 0) return -1;
  // The client's channel goes first: while a client keeps a connection
  // open, the server's SIGTERM drain waits out its whole grace period.
  stub_.reset();
  kill(pid_, signal);
  const int code = WaitExit(pid_);
  pid_ = 0;
  return code;
}

grpc::Status ServerChild::Recommend(const affinity::v1::RecommendRequest& request,
                                    affinity::v1::RecommendResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return stub_->Recommend(&context, request, response);
}

grpc::Status ServerChild::ReportOutcome(const affinity::v1::ReportOutcomeRequest& request,
                                        affinity::v1::ReportOutcomeResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return stub_->ReportOutcome(&context, request, response);
}

CliResult RunCli(const std::vector<std::string>& args) {
  const std::string path = absl::StrCat(TmpDir(), "/cli.", next_log++, ".out");
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<std::string> all = {kCliBinary};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (const std::string& a : all) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  CliResult result;
  result.exit_code = WaitExit(pid);
  result.output = ReadFile(path);
  return result;
}

}  // namespace affinity::server::testing
