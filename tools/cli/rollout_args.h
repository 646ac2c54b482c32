// The arguments of `affinity rollout`: fractions and the command line.
//
// `affinity rollout` reads its own flags (not through Abseil's flag
// registry, whose built-in --version flag would take `--version=N`). The
// command line is SUBCOMMAND followed by --name=value flags and the boolean
// flags --no_auto_promote and --help; each subcommand accepts only its own
// flags (see kRolloutUsage).
//
// Contract: errors are InvalidArgument naming the flag and quoting the text
// ("--fraction: \"abc\" is not a fraction, expected ..."). Pure functions,
// thread-safe; nothing throws.
#ifndef AFFINITY_TOOLS_CLI_ROLLOUT_ARGS_H_
#define AFFINITY_TOOLS_CLI_ROLLOUT_ARGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "affinity/v1/rollout.pb.h"

namespace affinity::cli {

extern const char kRolloutUsage[];

// A share of everything in [0, 1] written as "0.1", "10%" or "1000bp"
// (basis points, 1bp = 0.01%).
absl::StatusOr<double> ParseShare(absl::string_view text, absl::string_view flag);

// A share as a whole number of basis points, 0..10000 ("12.5%" is 1250;
// "0.00001", a tenth of a basis point, is refused).
absl::StatusOr<int32_t> ParseFraction(absl::string_view text, absl::string_view flag);

struct RolloutArgs {
  // show, set, promote, rollback, shadow, policy, history or status.
  std::string subcommand;
  // Targets in the order given; exactly one of the two lists is non-empty.
  std::vector<std::string> db;
  std::vector<std::string> admin;
  std::optional<std::string> arm;
  std::optional<uint64_t> version;
  std::optional<int32_t> fraction_bp;
  std::optional<affinity::v1::NewVersionPolicy::Mode> mode;
  std::optional<int32_t> canary_fraction_bp;
  std::optional<int64_t> auto_promote_min_impressions;
  std::optional<double> auto_promote_max_ctr_drop;
  bool no_auto_promote = false;
  int limit = 20;
  // Why, for the history (empty: the command's own summary is recorded).
  std::string reason;
  int timeout_ms = 5000;
  // --tls_ca, --tls_cert, --tls_key, --admin_token_file (with --admin).
  std::string tls_ca, tls_cert, tls_key, admin_token_file;
  bool help = false;
};

// `args` are the words after "rollout". InvalidArgument for an unknown
// subcommand or flag, a flag the subcommand does not take, a bad value, a
// missing or doubled target, or --db and --admin together. With --help the
// rest is not checked.
absl::StatusOr<RolloutArgs> ParseRolloutArgs(const std::vector<std::string>& args);

}  // namespace affinity::cli

#endif  // AFFINITY_TOOLS_CLI_ROLLOUT_ARGS_H_
