#include "trainer/eval/eval_options.h"

#include "absl/strings/str_cat.h"

namespace affinity {
namespace eval {

absl::Status ValidateEvalOptions(const EvalOptions& options) {
  if (options.k < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("EvalOptions.k must be >= 1, got ", options.k));
  }
  if (options.threads < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "EvalOptions.threads must be >= 1, got ", options.threads));
  }
  if (options.max_users < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "EvalOptions.max_users must be >= 0 (0 = all), got ",
        options.max_users));
  }
  if (options.user_block < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "EvalOptions.user_block must be >= 1, got ", options.user_block));
  }
  if (options.item_tile < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "EvalOptions.item_tile must be >= 1, got ", options.item_tile));
  }
  return absl::OkStatus();
}

}  // namespace eval
}  // namespace affinity
