#include "server/scoring/kmeans.h"

#include <Eigen/Core>
#include <algorithm>
#include <limits>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"

namespace affinity::server {
namespace {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowsMap = Eigen::Map<const RowMajor, Eigen::Aligned64, Eigen::OuterStride<>>;

// Rows assigned per GEMM: the n x clusters distance block stays in L2.
constexpr size_t kAssignChunkRows = 1024;
// Sampled rows per cluster the seeding draws from.
constexpr size_t kSeedRowsPerCluster = 16;

RowsMap Rows(const ItemMatrix& m, size_t first, size_t n) {
  return RowsMap(m.row(first), static_cast<Eigen::Index>(n),
                 static_cast<Eigen::Index>(m.dims()),
                 Eigen::OuterStride<>(static_cast<Eigen::Index>(m.stride())));
}

// Nearest centroid of rows [first, first + n): argmin |c|^2 - 2 <x, c>.
// `products` is the caller's scratch of at least n x centroids rows, kept
// across chunks: allocated per chunk (4 MB at 1,000 lists), it would be a
// fresh mapping each time (see server/lifecycle/malloc_settings.h), whose
// page faults and unmapping slow the request threads beside the load.
void AssignChunk(const ItemMatrix& items, size_t first, size_t n, const RowsMap& centroids,
                 const Eigen::VectorXf& centroid_norms, RowMajor* products, uint32_t* out) {
  auto chunk_products = products->topRows(static_cast<Eigen::Index>(n));
  chunk_products.noalias() = Rows(items, first, n) * centroids.transpose();
  for (size_t i = 0; i < n; ++i) {
    Eigen::Index best = 0;
    (centroid_norms.transpose() - 2.0f * chunk_products.row(static_cast<Eigen::Index>(i)))
        .minCoeff(&best);
    out[i] = static_cast<uint32_t>(best);
  }
}

// k-means++ seeding (Arthur & Vassilvitskii 2007) over the first `rows`
// rows of `sample` (a random sample already): each centroid is a row drawn
// with probability proportional to its squared distance to the nearest
// centroid chosen so far, so well separated clusters each get one.
void SeedCentroids(const ItemMatrix& sample, size_t rows, std::mt19937_64* rng,
                   ItemMatrix* centroids) {
  const size_t dims = sample.dims();
  const RowsMap points = Rows(sample, 0, rows);
  Eigen::VectorXf nearest = Eigen::VectorXf::Constant(static_cast<Eigen::Index>(rows),
                                                      std::numeric_limits<float>::infinity());
  size_t chosen = 0;
  for (size_t c = 0; c < centroids->rows(); ++c) {
    if (c > 0) {
      const double total = nearest.cast<double>().sum();
      if (total > 0) {
        std::uniform_real_distribution<double> draw(0.0, total);
        double target = draw(*rng);
        chosen = rows - 1;
        for (size_t i = 0; i < rows; ++i) {
          target -= nearest[static_cast<Eigen::Index>(i)];
          if (target < 0) {
            chosen = i;
            break;
          }
        }
      } else {
        chosen = (*rng)() % rows;  // every row is a centroid already
      }
    }
    std::copy(sample.row(chosen), sample.row(chosen) + dims, centroids->mutable_row(c));
    const Eigen::Map<const Eigen::RowVectorXf> centroid(sample.row(chosen),
                                                        static_cast<Eigen::Index>(dims));
    nearest = nearest.cwiseMin((points.rowwise() - centroid).rowwise().squaredNorm());
  }
}

}  // namespace

std::vector<uint32_t> AssignToNearest(const ItemMatrix& items, const ItemMatrix& centroids,
                                      const ScanPool* pool) {
  std::vector<uint32_t> assignment(items.rows(), 0);
  if (items.rows() == 0 || centroids.rows() == 0) return assignment;
  const RowsMap c = Rows(centroids, 0, centroids.rows());
  const Eigen::VectorXf norms = c.rowwise().squaredNorm();
  const size_t chunks = (items.rows() + kAssignChunkRows - 1) / kAssignChunkRows;
  const size_t parts = pool == nullptr || chunks <= 1
                           ? 1
                           : std::max<size_t>(1, static_cast<size_t>(pool->parallelism()));
  auto run_part = [&](size_t part) {
    RowMajor products(static_cast<Eigen::Index>(std::min(kAssignChunkRows, items.rows())),
                      c.rows());
    for (size_t chunk = part; chunk < chunks; chunk += parts) {
      const size_t first = chunk * kAssignChunkRows;
      const size_t n = std::min(kAssignChunkRows, items.rows() - first);
      AssignChunk(items, first, n, c, norms, &products, assignment.data() + first);
    }
  };
  if (parts <= 1) {
    run_part(0);
  } else {
    pool->Run(parts, run_part);
  }
  return assignment;
}

absl::StatusOr<KMeansResult> TrainKMeans(const ItemMatrix& items, const KMeansOptions& options) {
  if (options.clusters == 0) return absl::InvalidArgumentError("k-means: clusters must be > 0");
  const size_t rows = items.rows();
  const size_t dims = items.dims();
  KMeansResult result;
  if (rows == 0) {
    result.centroids = std::make_unique<ItemMatrix>(0, dims);
    return result;
  }
  const size_t k = std::min(options.clusters, rows);
  std::mt19937_64 rng(options.seed);

  // The training sample: distinct rows, at most sample_per_cluster per cluster.
  std::vector<uint32_t> picked(rows);
  std::iota(picked.begin(), picked.end(), 0u);
  const size_t sample_rows = std::min(rows, k * std::max<size_t>(1, options.sample_per_cluster));
  for (size_t i = 0; i < sample_rows; ++i) {
    std::uniform_int_distribution<size_t> pick(i, rows - 1);
    std::swap(picked[i], picked[pick(rng)]);
  }
  picked.resize(sample_rows);
  ItemMatrix sample(sample_rows, dims);
  for (size_t i = 0; i < sample_rows; ++i) {
    std::copy(items.row(picked[i]), items.row(picked[i]) + dims, sample.mutable_row(i));
  }

  result.centroids = std::make_unique<ItemMatrix>(k, dims);
  ItemMatrix& centroids = *result.centroids;
  SeedCentroids(sample, std::min(sample_rows, k * kSeedRowsPerCluster), &rng, &centroids);
  std::vector<double> sums(k * dims);
  std::vector<size_t> counts(k);
  std::uniform_int_distribution<size_t> any_sample(0, sample_rows - 1);
  for (size_t iteration = 0; iteration < options.iterations; ++iteration) {
    if (options.cancel != nullptr && options.cancel->load()) {
      return absl::CancelledError("k-means: cancelled");
    }
    const std::vector<uint32_t> nearest = AssignToNearest(sample, centroids, options.pool.get());
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
    for (size_t i = 0; i < sample_rows; ++i) {
      const float* row = sample.row(i);
      double* sum = sums.data() + nearest[i] * dims;
      for (size_t d = 0; d < dims; ++d) sum[d] += row[d];
      ++counts[nearest[i]];
    }
    for (size_t c = 0; c < k; ++c) {
      float* centroid = centroids.mutable_row(c);
      if (counts[c] == 0) {
        // An empty cluster restarts at a random sampled row.
        const float* row = sample.row(any_sample(rng));
        std::copy(row, row + dims, centroid);
        continue;
      }
      for (size_t d = 0; d < dims; ++d) {
        centroid[d] = static_cast<float>(sums[c * dims + d] / static_cast<double>(counts[c]));
      }
    }
  }
  if (options.cancel != nullptr && options.cancel->load()) {
    return absl::CancelledError("k-means: cancelled");
  }
  result.assignment = AssignToNearest(items, centroids, options.pool.get());
  return result;
}

}  // namespace affinity::server
