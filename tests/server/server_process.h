// Runs the affinity-server binary (a data dependency of the test) as a
// child process with its stderr in a log file, and reads what it logs:
// Spawn starts it, WaitExit reaps it, WaitForLog polls the log, LoggedPort
// finds the port a listener was bound to.
#ifndef AFFINITY_TESTS_SERVER_SERVER_PROCESS_H_
#define AFFINITY_TESTS_SERVER_SERVER_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace affinity::server::testing {

// Path of the server binary relative to the test's runfiles directory.
inline constexpr char kServerBinary[] = "server/affinity-server";

// $TEST_TMPDIR, or /tmp outside Bazel.
std::string TmpDir();

// TmpDir()/NAME for the running GoogleTest test NAME, created (with parents)
// if missing: a directory of its own for each test of a binary.
std::string TestCaseDir();

// Whole contents of `path`; empty if it cannot be read.
std::string ReadFile(const std::string& path);

// Forks and execs args[0] with `args`, stderr written to `log`; returns the
// child's pid. The child exits with 127 if the exec fails.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log);

// Waits for `pid` to end; its exit code, or 128 + signal if it was killed.
int WaitExit(pid_t pid);

// Waits up to `timeout_ms` for `pid` to end: its exit code as WaitExit
// gives it, or nullopt when it is still running (it is left running).
std::optional<int> WaitExitFor(pid_t pid, int timeout_ms);

// Re-reads `log` every 100 ms, up to 30 s, until it contains `text`;
// returns the last contents read.
std::string WaitForLog(const std::string& log, const std::string& text);

// The port N from the first "<label> <address> (port N)" in `log_text`
// (`label` is a regular expression), e.g. LoggedPort(text, "started: grpc");
// nullopt if there is none.
std::optional<int> LoggedPort(const std::string& log_text, const std::string& label);

}  // namespace affinity::server::testing

#endif  // AFFINITY_TESTS_SERVER_SERVER_PROCESS_H_
