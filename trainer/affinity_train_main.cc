// affinity-train: the nightly batch job (train and publish a model version)
// and the model store's admin commands. Run with --help for the flags.
//
// Exit codes: 0 success, 2 bad input or usage, 3 the nightly gate refused
// the candidate, 1 any other failure.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "storage/model_store.h"
#include "tools/command_line/parse_flags.h"
#include "trainer/admin_commands.h"
#include "trainer/import_command.h"
#include "trainer/nightly/gate.h"
#include "trainer/nightly/nightly_flags.h"
#include "trainer/train_flags.h"
#include "trainer/training_job.h"

namespace {

constexpr char kUsage[] = R"(trains recommendation models and manages the model store.

  affinity-train nightly --input=FILE --db=DIR [training flags] [--gate_metric=M]
      [--gate_tolerance=0.01] [--force] [--refit=true] [--keep_versions=7]
      The unattended job: skips an input it already covers, compares the
      candidate with the live version on interactions neither saw, stores
      a worse one as not eligible (exit 3), refits on all data, publishes,
      and keeps the newest versions.
  affinity-train --input=FILE --db=DIR [training flags]
      Reads interactions, trains ALS, evaluates on a holdout beside the
      most-popular and PureSVD baselines and publishes what it trained
      (no gate).
  affinity-train catalog --input=FILE --db=DIR [--catalog_format=auto|csv|movielens|jsonl]
      [--columns=THEIRS:OURS,...] [--replace]
      Loads item attributes (title, category, brand, price, ...) into the catalog:
      the file's columns of the file's items change, the rest is kept; with
      --replace the catalog becomes the file (items absent from it removed).
  affinity-train versions --db=DIR
      Lists the published model versions and which one is live.
  affinity-train rollback --db=DIR --version=N
      Pins version N as control with all traffic (servers switch within their
      poll interval); recorded in the rollout history.
  affinity-train unpin --db=DIR
      Control follows the newest eligible version again.
  affinity-train delete --db=DIR --version=N
      Deletes a version the rollout does not refer to (not live, pinned, an
      arm, the shadow or the control a rollback returns to).
  affinity-train recommend --db=DIR --users=U1,U2|--users_file=FILE [--k=10]
      Prints the live model's top-k for users, with catalog titles.
  affinity-train ids --db=DIR --users|--items [--limit=N] [--version=V]
      Writes the user or item ids of the live version (or V), one per line.
  affinity-train import --user_factors=DIR --item_factors=DIR --db=DIR
      [--interactions=FILE] [--alpha=A --regularization=R]
      Publishes factors trained by Spark MLlib ALS (model.userFactors /
      itemFactors written with .write.json) as a new model version.
  affinity-train export --db=DIR --version=N --to=OUT
      Writes version N as a checksummed RocksDB backup into the new directory OUT.
  affinity-train import-version --from=OUT --db=DIR
      Verifies an export and adds its version to the store, keeping its number.

Exit codes: 0 success (for nightly also: nothing to do), 2 bad input or
usage, 3 nightly: the gate refused the candidate (stored, not eligible),
1 other failures.)";

int ExitCode(const absl::Status& status) {
  if (affinity::storage::IsNoModelStore(status)) return 1;  // unmounted or not yet created
  switch (status.code()) {
    case absl::StatusCode::kOk: return 0;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 2;
    default: return 1;
  }
}

int Fail(const absl::Status& status) {
  std::cerr << "affinity-train: " << status.message() << "\n";
  return ExitCode(status);
}

}  // namespace

int main(int argc, char** argv) {
  // Bad flags exit 2, --help prints to stdout and exits 0.
  std::vector<char*> args =
      affinity::command_line::ParseFlagsOrExit(
          {"affinity-train", kUsage, {"trainer/"}, {{"users", "all"}}}, argc, argv);
  if (args.size() > 2) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", args[2], "' (see --help)")));
  }
  if (args.size() == 2 && absl::string_view(args[1]) == "nightly") {
    auto nightly = affinity::NightlyConfigFromFlags();
    if (!nightly.ok()) return Fail(nightly.status());
    // Progress goes to stderr; the one-line summary to stdout.
    auto result = affinity::RunNightlyJob(*nightly, std::cerr);
    if (!result.ok()) return Fail(result.status());
    std::cout << result->summary << std::endl;
    return result->outcome == affinity::NightlyOutcome::kGated ? affinity::kGateRefusedExitCode
                                                               : 0;
  }
  if (args.size() == 2 && absl::string_view(args[1]) == "import") {
    auto eligible = affinity::ImportSparkCommand(std::cout);
    if (!eligible.ok()) return Fail(eligible.status());
    return *eligible ? 0 : affinity::kGateRefusedExitCode;
  }
  if (args.size() == 2) {
    absl::Status status = affinity::RunAdminCommand(args[1], std::cout);
    return status.ok() ? 0 : Fail(status);
  }
  auto config = affinity::TrainingJobConfigFromFlags();
  if (!config.ok()) return Fail(config.status());
  auto report = affinity::RunTrainingJob(*config, std::cout);
  if (!report.ok()) return Fail(report.status());
  return 0;
}
