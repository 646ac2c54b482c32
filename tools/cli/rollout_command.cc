#include "tools/cli/rollout_command.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/rollout/rollout_status.h"
#include "storage/event_reader.h"
#include "storage/model_store.h"
#include "tools/cli/rollout_args.h"
#include "tools/cli/rollout_format.h"
#include "tools/cli/rollout_outcomes.h"
#include "tools/cli/rollout_target.h"
#include "tools/cli/rollout_transitions.h"

namespace affinity::cli {
namespace {

using affinity::v1::RolloutState;
using affinity::v1::RolloutStatus;

bool IsWrite(const std::string& subcommand) {
  return subcommand == "set" || subcommand == "promote" || subcommand == "rollback" ||
         subcommand == "shadow" || subcommand == "policy";
}

// Refusals caused by what the command asked for.
int ExitCodeFor(const absl::Status& status) {
  if (storage::IsNoModelStore(status)) return kRolloutFailed;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
      return kRolloutBadInput;
    default:
      return kRolloutFailed;
  }
}

int Fail(std::ostream& err, const std::string& target, const absl::Status& status, int code) {
  err << "error: " << (target.empty() ? "" : target + ": ") << status.message();
  if (absl::IsAborted(status)) err << " (run the command again)";
  err << "\n";
  return code;
}

// The stored state without the store's bookkeeping, to compare with the
// state a change writes.
RolloutState Comparable(RolloutState state) {
  state.clear_revision();
  state.clear_updated_at_unix();
  state.clear_updated_by();
  return state;
}

absl::StatusOr<RolloutEdit> Edit(const RolloutArgs& args, const RolloutStatus& current) {
  const std::string& command = args.subcommand;
  if (command == "set") return SetArm(current, *args.arm, args.version, args.fraction_bp);
  if (command == "promote") return Promote(current, args.arm);
  if (command == "rollback") return Rollback(current);
  if (command == "shadow") return SetShadow(current, args.version, args.fraction_bp);
  PolicyChange change;
  change.mode = *args.mode;
  change.canary_basis_points = args.canary_fraction_bp;
  if (args.auto_promote_min_impressions.has_value()) {
    affinity::v1::AutoPromoteRule rule;
    rule.set_enabled(true);
    rule.set_min_impressions(*args.auto_promote_min_impressions);
    rule.set_max_ctr_drop(*args.auto_promote_max_ctr_drop);
    change.auto_promote = rule;
  }
  change.disable_auto_promote = args.no_auto_promote;
  return SetPolicy(current, change);
}

class Command {
 public:
  Command(RolloutArgs args, std::ostream& out, std::ostream& err)
      : args_(std::move(args)), out_(out), err_(err) {}

  int Run() {
    if (args_.reason.size() > server::rollout::kMaxChangeReasonBytes) {
      err_ << "error: --reason: " << args_.reason.size() << " bytes, expected at most "
           << server::rollout::kMaxChangeReasonBytes << "\n";
      return kRolloutBadInput;
    }
    if (int code = OpenTargets(); code != kRolloutOk) return code;
    const std::string& command = args_.subcommand;
    if (command == "show") return Show();
    if (command == "history") return History();
    if (command == "status") return Status();
    return Write();
  }

 private:
  int OpenTargets() {
    const TargetAccess access =
        IsWrite(args_.subcommand) ? TargetAccess::kWrite : TargetAccess::kRead;
    for (const std::string& dir : args_.db) {
      absl::StatusOr<std::unique_ptr<RolloutTarget>> target = OpenStoreTarget(dir, access);
      if (!target.ok()) {
        return Fail(err_, "--db=" + dir, target.status(),
                    ExitCodeFor(target.status()));
      }
      targets_.push_back(*std::move(target));
    }
    if (args_.admin.empty()) return kRolloutOk;
    absl::StatusOr<Connection> connection = LoadConnection(
        {args_.tls_ca, args_.tls_cert, args_.tls_key, args_.admin_token_file});
    if (!connection.ok()) return Fail(err_, "--admin", connection.status(), kRolloutBadInput);
    for (const std::string& address : args_.admin) {
      targets_.push_back(ConnectAdminTarget(address, args_.timeout_ms, *connection));
    }
    return kRolloutOk;
  }

  int Show() {
    int code = kRolloutOk;
    std::vector<std::string> names;
    std::vector<RolloutStatus> statuses;
    for (const auto& target : targets_) {
      absl::StatusOr<RolloutStatus> status = target->Get();
      if (!status.ok()) {
        code = Fail(err_, target->name(), status.status(), kRolloutFailed);
        continue;
      }
      if (!statuses.empty()) out_ << "\n";
      out_ << FormatRolloutStatus(target->name(), *status);
      names.push_back(target->name());
      statuses.push_back(*std::move(status));
    }
    if (code != kRolloutOk || targets_.size() < 2) return code;
    const std::vector<std::string> disagreements = Disagreements(names, statuses);
    out_ << "\n";
    if (disagreements.empty()) {
      out_ << "all " << targets_.size() << " targets agree\n";
      return kRolloutOk;
    }
    for (const std::string& line : disagreements) out_ << line << "\n";
    return kRolloutDisagree;
  }

  int History() {
    int code = kRolloutOk;
    for (const auto& target : targets_) {
      absl::StatusOr<std::vector<affinity::v1::RolloutChange>> changes =
          target->History(args_.limit);
      if (!changes.ok()) {
        code = Fail(err_, target->name(), changes.status(), kRolloutFailed);
        continue;
      }
      if (targets_.size() > 1) out_ << "== " << target->name() << " ==\n";
      out_ << FormatRolloutHistory(*changes);
    }
    return code;
  }

  int Status() {
    int code = kRolloutOk;
    for (size_t i = 0; i < targets_.size(); ++i) {
      const std::string& dir = args_.db[i];
      absl::StatusOr<RolloutStatus> status = targets_[i]->Get();
      if (!status.ok()) {
        code = Fail(err_, dir, status.status(), kRolloutFailed);
        continue;
      }
      out_ << "== " << dir << " ==\n";
      if (status->resolved().arms_size() == 0) {
        code = Fail(err_, dir, absl::FailedPreconditionError(status->unresolved_reason()),
                    kRolloutFailed);
        continue;
      }
      out_ << "arms: " << SummarizeResolved(*status) << "\n";
      std::vector<storage::ArmOutcomeCounts> counts;
      absl::StatusOr<std::unique_ptr<storage::EventReader>> reader =
          storage::EventReader::Open(dir);
      if (absl::IsNotFound(reader.status())) {
        out_ << "no outcome events recorded (" << dir << "/events does not exist)\n";
      } else if (!reader.ok()) {
        code = Fail(err_, dir, reader.status(), kRolloutFailed);
        continue;
      } else {
        absl::StatusOr<std::vector<storage::ArmOutcomeCounts>> read = (*reader)->Counts();
        if (!read.ok()) {
          code = Fail(err_, dir, read.status(), kRolloutFailed);
          continue;
        }
        counts = *std::move(read);
      }
      const RolloutOutcomes outcomes = GroupOutcomes(status->resolved(), counts);
      absl::StatusOr<std::string> table = FormatOutcomes(outcomes);
      if (!table.ok()) {
        code = Fail(err_, dir, table.status(), kRolloutFailed);
        continue;
      }
      out_ << *table;
      const std::string auto_promote = DescribeAutoPromotion(status->state(), outcomes);
      if (!auto_promote.empty()) out_ << auto_promote << "\n";
    }
    return code;
  }

  int Write() {
    std::vector<RolloutStatus> before;
    for (const auto& target : targets_) {
      absl::StatusOr<RolloutStatus> status = target->Get();
      if (!status.ok()) return Fail(err_, target->name(), status.status(), kRolloutFailed);
      before.push_back(*std::move(status));
    }
    absl::StatusOr<RolloutEdit> edit = Edit(args_, before[0]);
    if (!edit.ok()) {
      return Fail(err_, "", edit.status(),
                  absl::IsInvalidArgument(edit.status()) ? kRolloutBadInput : kRolloutFailed);
    }
    const std::vector<std::string> first_lines = DescribeStateChange(before[0].state(), edit->next);
    // What changes is printed once a target took (or already had) it.
    bool described = false;
    auto describe = [&] {
      if (described) return;
      described = true;
      out_ << edit->summary << "\n";
      for (const std::string& line : first_lines) out_ << "  " << line << "\n";
    };

    storage::RolloutChangeInfo change;
    change.by = RolloutChangeAuthor();
    change.action = edit->action;
    change.reason = args_.reason.empty() ? edit->summary : args_.reason;
    int code = kRolloutOk;
    const RolloutStatus* shown = nullptr;
    std::vector<RolloutStatus> after(targets_.size());
    for (size_t i = 0; i < targets_.size(); ++i) {
      RolloutTarget& target = *targets_[i];
      const RolloutState& state = before[i].state();
      if (google::protobuf::util::MessageDifferencer::Equals(Comparable(state), edit->next)) {
        describe();
        out_ << target.name() << ": unchanged (revision " << state.revision() << ")\n";
        after[i] = before[i];
        if (shown == nullptr) shown = &after[i];
        continue;
      }
      absl::StatusOr<RolloutStatus> written = target.Update(state.revision(), edit->next, change);
      if (!written.ok()) {
        const int failed =
            Fail(err_, target.name(), written.status(), ExitCodeFor(written.status()));
        if (code == kRolloutOk) code = failed;
        continue;
      }
      describe();
      out_ << target.name() << ": revision " << state.revision() << " -> "
           << written->state().revision() << "\n";
      if (i > 0) {
        const std::vector<std::string> lines = DescribeStateChange(state, edit->next);
        if (lines != first_lines) {
          for (const std::string& line : lines) out_ << "  " << line << "\n";
        }
      }
      after[i] = *std::move(written);
      if (shown == nullptr) shown = &after[i];
    }
    if (shown != nullptr) {
      out_ << "arms now: " << SummarizeResolved(*shown) << "\n";
      for (const std::string& warning : shown->resolved().warnings()) {
        out_ << "warning: " << warning << "\n";
      }
    }
    return code;
  }

  const RolloutArgs args_;
  std::ostream& out_;
  std::ostream& err_;
  std::vector<std::unique_ptr<RolloutTarget>> targets_;
};

}  // namespace

std::string RolloutChangeAuthor() {
  const char* user = std::getenv("USER");
  if (user == nullptr || *user == '\0') {
    // Services and containers often run without $USER: the account's name.
    const struct passwd* account = getpwuid(getuid());
    if (account != nullptr) user = account->pw_name;
  }
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof(host), "unknown");
  }
  std::string by =
      absl::StrCat(user != nullptr && *user ? user : "unknown", "@", host, " via affinity rollout");
  if (by.size() > server::rollout::kMaxChangeByBytes) {
    by.resize(server::rollout::kMaxChangeByBytes);
  }
  return by;
}

int RunRolloutCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  absl::StatusOr<RolloutArgs> parsed = ParseRolloutArgs(args);
  if (!parsed.ok()) {
    err << "error: " << parsed.status().message() << "\n"
        << "usage: affinity rollout show|set|promote|rollback|shadow|policy|history|status "
           "[flags]; see affinity rollout --help\n";
    return kRolloutBadInput;
  }
  if (parsed->help) {
    out << kRolloutUsage;
    return kRolloutOk;
  }
  return Command(*std::move(parsed), out, err).Run();
}

}  // namespace affinity::cli
