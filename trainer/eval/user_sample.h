// Chooses which users an evaluation scores: every user with at least one
// held-out item or, when a cap is given and more users qualify, a uniform
// sample of `max_users` of them. The sample depends only on the test matrix,
// the cap and the seed (std::mt19937_64 with a fixed range reduction), so it
// is identical across runs, thread counts and platforms.
#ifndef AFFINITY_TRAINER_EVAL_USER_SAMPLE_H_
#define AFFINITY_TRAINER_EVAL_USER_SAMPLE_H_

#include <cstdint>
#include <vector>

#include "trainer/data/csr.h"

namespace affinity {
namespace eval {

// Row indices of `test` with a non-empty row, ascending. max_users <= 0
// means no cap.
std::vector<int64_t> SelectEvaluationUsers(const CsrMatrix& test,
                                           int64_t max_users, uint64_t seed);

}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TRAINER_EVAL_USER_SAMPLE_H_
