// Measures end-to-end ingest of one interaction file (read, parse, intern,
// CSR build) and prints throughput figures.
//
// Usage: ingest_bench FILE [auto|csv|tsv|whitespace|movielens]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "trainer/data/interactions_reader.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s FILE [auto|csv|tsv|whitespace|movielens]\n",
                 argv[0]);
    return 2;
  }
  affinity::InteractionReaderOptions options;
  if (argc == 3) {
    auto format = affinity::ParseInteractionFormat(argv[2]);
    if (!format.ok()) {
      std::fprintf(stderr, "%s\n", format.status().ToString().c_str());
      return 2;
    }
    options.format = *format;
  }
  const auto start = std::chrono::steady_clock::now();
  auto data = affinity::ReadInteractions(argv[1], options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (!data.ok()) {
    std::fprintf(stderr, "%s\n", data.status().ToString().c_str());
    return 1;
  }
  const affinity::InteractionStats& s = data->stats;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("file            %s\n", argv[1]);
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
  std::printf("throughput      %.1f MB/s, %.2f M rows/s\n",
              s.bytes_read / 1e6 / seconds, s.rows_read / 1e6 / seconds);
  std::printf("csr bytes       %lld\n",
              static_cast<long long>(data->matrix.MemoryBytes()));
  std::printf("peak rss        %.1f MB\n", usage.ru_maxrss / 1024.0);
  return 0;
}
