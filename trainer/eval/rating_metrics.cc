#include "trainer/eval/rating_metrics.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include "absl/strings/str_cat.h"
#include "trainer/eval/moments.h"

namespace affinity {
namespace eval {
namespace {

absl::Status CheckInput(const FactorMatrix& user_factors,
                        const FactorMatrix& item_factors, const CsrMatrix& test,
                        const RatingEvalOptions& options) {
  if (options.threads < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RatingEvalOptions.threads must be >= 1, got ", options.threads));
  }
  if (options.user_block < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RatingEvalOptions.user_block must be >= 1, got ", options.user_block));
  }
  if (user_factors.rows() != test.rows()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "user factors have ", user_factors.rows(),
        " rows, expected one per user of the test matrix (", test.rows(), ")"));
  }
  if (item_factors.rows() != test.cols()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "item factors have ", item_factors.rows(),
        " rows, expected one per item of the test matrix (", test.cols(), ")"));
  }
  if (user_factors.cols() != item_factors.cols()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "user factors have ", user_factors.cols(), " columns but item factors ",
        item_factors.cols(), "; both must have the same dimension"));
  }
  return absl::OkStatus();
}

struct BlockMoments {
  RunningMoments squared;
  RunningMoments absolute;
};

}  // namespace

std::map<std::string, double> RatingMetrics::ToMap(
    absl::string_view prefix) const {
  return {
      {absl::StrCat(prefix, "rmse"), rmse},
      {absl::StrCat(prefix, "mae"), mae},
      {absl::StrCat(prefix, "rmse_ci95"), rmse_ci95},
      {absl::StrCat(prefix, "mae_ci95"), mae_ci95},
      {absl::StrCat(prefix, "ratings_evaluated"),
       static_cast<double>(ratings_evaluated)},
  };
}

absl::StatusOr<RatingMetrics> EvaluateRatings(const FactorMatrix& user_factors,
                                              const FactorMatrix& item_factors,
                                              const CsrMatrix& test,
                                              const RatingEvalOptions& options) {
  if (absl::Status s = CheckInput(user_factors, item_factors, test, options);
      !s.ok()) {
    return s;
  }
  RatingMetrics out;
  if (options.keep_errors) {
    out.squared_errors.resize(test.nnz());
    out.absolute_errors.resize(test.nnz());
  }
  const int64_t block = options.user_block;
  const int64_t num_blocks = (test.rows() + block - 1) / block;
  const int workers = static_cast<int>(
      std::max<int64_t>(1, std::min<int64_t>(options.threads, num_blocks)));
  std::vector<BlockMoments> moments(num_blocks);
  std::atomic<int64_t> next_block{0};

  auto work = [&]() {
    for (int64_t b = next_block.fetch_add(1); b < num_blocks;
         b = next_block.fetch_add(1)) {
      BlockMoments& m = moments[b];
      const int64_t end = std::min(test.rows(), (b + 1) * block);
      for (int64_t u = b * block; u < end; ++u) {
        const CsrMatrix::Row row = test.row(u);
        int64_t entry = test.indptr()[u];
        for (size_t e = 0; e < row.size(); ++e, ++entry) {
          const double predicted =
              user_factors.row(u).cast<double>().dot(
                  item_factors.row(row.indices[e]).cast<double>());
          const double error = predicted - static_cast<double>(row.values[e]);
          const double squared = error * error;
          const double absolute = std::abs(error);
          m.squared.Add(squared);
          m.absolute.Add(absolute);
          if (options.keep_errors) {
            out.squared_errors[entry] = squared;
            out.absolute_errors[entry] = absolute;
          }
        }
      }
    }
  };
  if (workers == 1) {
    work();
  } else {
    std::vector<std::thread> threads;
    threads.reserve(workers);
    for (int w = 0; w < workers; ++w) threads.emplace_back(work);
    for (std::thread& t : threads) t.join();
  }

  BlockMoments total;
  for (const BlockMoments& m : moments) {
    total.squared.Merge(m.squared);
    total.absolute.Merge(m.absolute);
  }
  out.ratings_evaluated = total.squared.count();
  if (out.ratings_evaluated == 0) return out;
  out.rmse = std::sqrt(total.squared.mean());
  out.mae = total.absolute.mean();
  out.mae_ci95 = total.absolute.ci95();
  out.rmse_ci95 = out.rmse > 0 ? total.squared.ci95() / (2 * out.rmse) : 0;
  return out;
}

}  // namespace eval
}  // namespace affinity
