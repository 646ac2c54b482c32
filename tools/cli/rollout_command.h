// `affinity rollout`: shows and changes the A/B rollout of one or more
// stores, directly (--db=DIR[,DIR...]) or through their servers'
// RolloutAdmin service (--admin=HOST:PORT[,...]). kRolloutUsage
// (tools/cli/rollout_args.h) lists the subcommands and tools/cli/README.md
// documents them.
//
// Contract:
//  - A change is computed from the first target's state and the same state
//    is written to every target, each with the revision read from it; a
//    target already in that state is left alone. Every write prints what
//    changed and each target's new revision. History records `by` as
//    "$USER@host via affinity rollout" and --reason (or the change's own
//    summary).
//  - Returns the exit code: kRolloutOk, kRolloutFailed (the store or
//    server refused or failed: busy, revision moved on, unreachable,
//    nothing to roll back), kRolloutBadInput (bad usage or input, the flag
//    named; also a version that is not published or may not take traffic),
//    kRolloutDisagree (show: the targets differ; one DISAGREE line per
//    aspect). Output goes to `out`, errors ("error: TARGET: ...") to `err`.
//  - Not thread-safe (one command per process); nothing throws.
#ifndef AFFINITY_TOOLS_CLI_ROLLOUT_COMMAND_H_
#define AFFINITY_TOOLS_CLI_ROLLOUT_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace affinity::cli {

inline constexpr int kRolloutOk = 0;
inline constexpr int kRolloutFailed = 1;
inline constexpr int kRolloutBadInput = 2;
inline constexpr int kRolloutDisagree = 3;

// `args` are the words after "rollout".
int RunRolloutCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// "$USER@hostname via affinity rollout" ("unknown" for what is not known).
std::string RolloutChangeAuthor();

}  // namespace affinity::cli

#endif  // AFFINITY_TOOLS_CLI_ROLLOUT_COMMAND_H_
