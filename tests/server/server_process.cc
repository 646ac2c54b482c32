#include "tests/server/server_process.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <system_error>
#include <thread>

#include "gtest/gtest.h"

namespace affinity::server::testing {

std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t != nullptr ? t : "/tmp";
}

std::string TestCaseDir() {
  const std::string dir =
      TmpDir() + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::error_code ignored;  // a directory that cannot be made fails the test's first use of it
  std::filesystem::create_directories(dir, ignored);
  return dir;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::freopen(log.c_str(), "w", stderr);
    (void)f;
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::optional<int> WaitExitFor(pid_t pid, int timeout_ms) {
  for (int waited = 0;; waited += 20) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (waited >= timeout_ms) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string WaitForLog(const std::string& log, const std::string& text) {
  std::string contents;
  for (int i = 0; i < 300; ++i) {
    contents = ReadFile(log);
    if (contents.find(text) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return contents;
}

std::optional<int> LoggedPort(const std::string& log_text, const std::string& label) {
  std::smatch m;
  if (!std::regex_search(log_text, m, std::regex(label + R"( \S+ \(port (\d+)\))"))) {
    return std::nullopt;
  }
  return std::stoi(m[1]);
}

}  // namespace affinity::server::testing
