// Measures end-to-end ingest of one interaction file (read, parse, intern,
// CSR build) and prints throughput figures, then times the item-major
// transpose a trainer builds next.
//
// Usage: ingest_bench FILE [auto|csv|tsv|whitespace|movielens]
//                     [--from-triplets]
// --from-triplets also times CsrMatrix::FromTriplets on the same entries.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "trainer/data/interactions_reader.h"

int main(int argc, char** argv) {
  bool from_triplets = false;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--from-triplets") {
      from_triplets = true;
    } else {
      args.emplace_back(argv[i]);
    }
  }
  if (args.empty() || args.size() > 2) {
    std::fprintf(stderr,
                 "usage: %s FILE [auto|csv|tsv|whitespace|movielens] "
                 "[--from-triplets]\n",
                 argv[0]);
    return 2;
  }
  affinity::InteractionReaderOptions options;
  if (args.size() == 2) {
    auto format = affinity::ParseInteractionFormat(args[1]);
    if (!format.ok()) {
      std::fprintf(stderr, "%s\n", format.status().ToString().c_str());
      return 2;
    }
    options.format = *format;
  }
  const auto start = std::chrono::steady_clock::now();
  auto data = affinity::ReadInteractions(args[0], options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (!data.ok()) {
    std::fprintf(stderr, "%s\n", data.status().ToString().c_str());
    return 1;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const affinity::InteractionStats& s = data->stats;
  std::printf("file            %s\n", args[0].c_str());
  std::printf("bytes           %lld (crc32 %08x)\n",
              static_cast<long long>(s.bytes_read), s.crc32);
  std::printf("rows            %lld (skipped %lld, duplicates merged %lld)\n",
              static_cast<long long>(s.rows_read),
              static_cast<long long>(s.rows_skipped),
              static_cast<long long>(s.duplicates_merged));
  std::printf("users x items   %zu x %zu, nnz %lld\n", data->user_ids.size(),
              data->item_ids.size(),
              static_cast<long long>(data->matrix.nnz()));
  std::printf("seconds         %.3f (parse+intern %.3f, csr build %.3f)\n",
              seconds, s.parse_seconds, s.build_seconds);
  const double cpu_seconds =
      usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
      usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
  std::printf("throughput      %.1f MB/s, %.2f M rows/s\n",
              s.bytes_read / 1e6 / seconds, s.rows_read / 1e6 / seconds);
  // On a busy machine wall time includes waiting for a core; CPU time
  // (user + system, whole process) does not.
  std::printf("cpu seconds     %.3f (%.1f MB per cpu second)\n", cpu_seconds,
              s.bytes_read / 1e6 / cpu_seconds);
  std::printf("csr bytes       %lld\n",
              static_cast<long long>(data->matrix.MemoryBytes()));
  const auto transpose_start = std::chrono::steady_clock::now();
  const affinity::CsrMatrix items = data->matrix.Transpose();
  std::printf("transpose       %.3f s (%lld x %lld)\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                            transpose_start)
                  .count(),
              static_cast<long long>(items.rows()),
              static_cast<long long>(items.cols()));
  if (from_triplets) {
    // Rebuild the matrix from shuffled-by-column triplets (the item-major
    // order), as a caller holding coordinate arrays would.
    std::vector<uint32_t> row, col;
    std::vector<float> value;
    row.reserve(items.nnz());
    col.reserve(items.nnz());
    value.reserve(items.nnz());
    for (int64_t i = 0; i < items.rows(); ++i) {
      const affinity::CsrMatrix::Row r = items.row(i);
      for (size_t k = 0; k < r.size(); ++k) {
        row.push_back(r.indices[k]);
        col.push_back(static_cast<uint32_t>(i));
        value.push_back(r.values[k]);
      }
    }
    const auto start_triplets = std::chrono::steady_clock::now();
    auto rebuilt = affinity::CsrMatrix::FromTriplets(
        data->matrix.rows(), data->matrix.cols(), row, col, value);
    const double triplet_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                      start_triplets)
            .count();
    if (!rebuilt.ok()) {
      std::fprintf(stderr, "%s\n", rebuilt.status().ToString().c_str());
      return 1;
    }
    std::printf("from triplets   %.3f s (%lld entries, %s)\n", triplet_seconds,
                static_cast<long long>(row.size()),
                rebuilt->indices() == data->matrix.indices() &&
                        rebuilt->values() == data->matrix.values()
                    ? "same matrix"
                    : "DIFFERENT matrix");
  }
  std::printf("peak rss        %.1f MB (before the transpose)\n",
              usage.ru_maxrss / 1024.0);
  return 0;
}
