#include "trainer/eval/ranking_evaluation.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "trainer/eval/user_sample.h"

namespace affinity {
namespace eval {
namespace {

absl::Status CheckSameShape(const CsrMatrix& train, const CsrMatrix& test) {
  if (train.rows() != test.rows() || train.cols() != test.cols()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "train and test matrices must have the same shape: train is ",
        train.rows(), " x ", train.cols(), ", test is ", test.rows(), " x ",
        test.cols()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RankingMetrics> EvaluateRankings(
    const CsrMatrix& train, const CsrMatrix& test, const EvalOptions& options,
    const BlockRankerFactory& new_ranker) {
  if (absl::Status s = ValidateEvalOptions(options); !s.ok()) return s;
  if (absl::Status s = CheckSameShape(train, test); !s.ok()) return s;

  const std::vector<int64_t> users =
      SelectEvaluationUsers(test, options.max_users, options.seed);
  const int64_t num_users = static_cast<int64_t>(users.size());
  const int64_t block = options.user_block;
  const int64_t num_blocks = (num_users + block - 1) / block;
  const int workers = static_cast<int>(
      std::max<int64_t>(1, std::min<int64_t>(options.threads, num_blocks)));

  std::vector<UserRankingMetrics> per_user(num_users);
  // One coverage mark array per worker, merged after the join.
  std::vector<std::vector<uint8_t>> recommended(
      workers, std::vector<uint8_t>(test.cols(), 0));
  std::atomic<int64_t> next_block{0};

  auto work = [&](int worker) {
    std::unique_ptr<BlockRanker> ranker = new_ranker();
    std::vector<std::vector<uint32_t>> ranked;
    std::vector<uint8_t>& marks = recommended[worker];
    for (int64_t b = next_block.fetch_add(1); b < num_blocks;
         b = next_block.fetch_add(1)) {
      const int64_t begin = b * block;
      const int64_t end = std::min(num_users, begin + block);
      absl::Span<const int64_t> block_users(users.data() + begin,
                                            end - begin);
      ranked.resize(block_users.size());
      ranker->RankBlock(block_users, options.k, &ranked);
      for (size_t i = 0; i < block_users.size(); ++i) {
        per_user[begin + i] = ScoreUserRanking(
            ranked[i], test.row(block_users[i]).indices, options.k);
        for (uint32_t item : ranked[i]) marks[item] = 1;
      }
    }
  };

  if (workers == 1) {
    work(0);
  } else {
    std::vector<std::thread> threads;
    threads.reserve(workers);
    for (int w = 0; w < workers; ++w) threads.emplace_back(work, w);
    for (std::thread& t : threads) t.join();
  }

  RankingMetricsSum sum;
  for (const UserRankingMetrics& m : per_user) sum.Add(m);
  int64_t covered = 0;
  for (int64_t item = 0; item < test.cols(); ++item) {
    for (int w = 0; w < workers; ++w) {
      if (recommended[w][item]) {
        ++covered;
        break;
      }
    }
  }
  RankingMetrics result = sum.Finish(options.k, covered, test.cols());
  if (options.keep_per_user) {
    result.users = users;
    result.per_user = std::move(per_user);
  }
  return result;
}

}  // namespace eval
}  // namespace affinity
