// Settings shared by every ranking evaluation (factor models and the
// popularity baseline) and their validation.
#ifndef AFFINITY_TRAINER_EVAL_EVAL_OPTIONS_H_
#define AFFINITY_TRAINER_EVAL_EVAL_OPTIONS_H_

#include <cstdint>

#include "absl/status/status.h"

namespace affinity {
namespace eval {

struct EvalOptions {
  // Length of the ranked list per user; >= 1.
  int k = 10;
  // Worker threads; >= 1. Results do not depend on it.
  int threads = 1;
  // When > 0, evaluate a seeded uniform sample of at most this many of the
  // users with held-out items (see user_sample.h); 0 evaluates all of them.
  int64_t max_users = 0;
  uint64_t seed = 1;
  // Users scored together by one matrix-matrix product; >= 1.
  int user_block = 256;
  // Items per product (factor models): bounds the score buffer of a worker
  // to user_block x item_tile floats; >= 1.
  int item_tile = 4096;
  // Also return the evaluated users and their per-user metrics
  // (RankingMetrics::users and ::per_user), e.g. for a paired comparison
  // of two models; about 40 bytes per evaluated user.
  bool keep_per_user = false;
};

// InvalidArgument naming the first out-of-range field, else OK.
absl::Status ValidateEvalOptions(const EvalOptions& options);

}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TRAINER_EVAL_EVAL_OPTIONS_H_
