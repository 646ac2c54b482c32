// Fuzz target: the interaction reader (trainer/data/interactions_reader.h),
// as `affinity-train` calls it, on a file holding the input's bytes.
//
// Input: one option byte (file extension, format, header mode, error mode,
// weight transform), one size byte (read buffer, longest id), then the file.
// Invariants checked beyond "no crash": an error names the file; a result
// has only non-empty, unique, bounded, NUL-free valid UTF-8 ids, finite
// non-negative weights, non-negative timestamps aligned with the entries,
// and stats that add up (bytes and CRC-32 of the file, rows = entries +
// merged duplicates + skipped rows).
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "storage/utf8.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/scratch_dir.h"
#include "trainer/data/interactions_reader.h"

namespace affinity {
namespace {

void CheckIds(const std::vector<std::string>& ids, size_t max_length, const char* what) {
  absl::flat_hash_set<absl::string_view> seen;
  for (const std::string& id : ids) {
    FUZZ_CHECK(!id.empty(), what);
    FUZZ_CHECK(id.size() <= max_length, absl::StrCat(what, " of ", id.size(), " bytes"));
    FUZZ_CHECK(storage::IsValidUtf8(id), absl::StrCat(what, " ", storage::InvalidUtf8Position(id)));
    FUZZ_CHECK(storage::FindNul(id) == absl::string_view::npos, what);
    FUZZ_CHECK(seen.insert(id).second, absl::StrCat(what, " interned twice: ", id));
  }
}

}  // namespace
}  // namespace affinity

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace affinity;
  static const char* const kExtensions[] = {".csv", ".tsv", ".dat", ".tab", ".txt", ""};
  static const InteractionFormat kFormats[] = {
      InteractionFormat::kAuto, InteractionFormat::kCsv, InteractionFormat::kTsv,
      InteractionFormat::kWhitespace, InteractionFormat::kMovieLens};
  static const HeaderMode kHeaders[] = {HeaderMode::kAuto, HeaderMode::kPresent,
                                        HeaderMode::kAbsent};
  static const WeightTransform kTransforms[] = {WeightTransform::kRaw, WeightTransform::kLog1p,
                                                WeightTransform::kBinary};
  static const size_t kBuffers[] = {16, 64, 257, 4096};

  fuzz::FuzzInput in(data, size);
  const uint8_t option = in.TakeByte();
  const uint8_t sizes = in.TakeByte();
  InteractionReaderOptions options;
  const char* extension = kExtensions[option % 6];
  options.format = kFormats[(option / 6) % 5];
  options.header = kHeaders[(option / 30) % 3];
  options.on_error = (option & 0x80) ? OnError::kSkip : OnError::kFail;
  options.weight_transform = kTransforms[sizes % 3];
  options.buffer_bytes = kBuffers[(sizes / 3) % 4];
  options.max_id_length = (sizes & 0x80) ? 4 : 256;
  options.max_errors_shown = 2;

  const std::string path = absl::StrCat(fuzz::ScratchDir(), "/input", extension);
  const absl::string_view file = in.rest();
  fuzz::WriteScratchFile(path, file);

  absl::StatusOr<Interactions> read = ReadInteractions(path, options);
  if (!read.ok()) {
    FUZZ_CHECK(absl::StrContains(read.status().message(), path), read.status().ToString());
    return 0;
  }
  const Interactions& r = *read;
  const InteractionStats& stats = r.stats;
  CheckIds(r.user_ids, options.max_id_length, "user id");
  CheckIds(r.item_ids, options.max_id_length, "item id");
  FUZZ_CHECK(r.matrix.rows() == static_cast<int64_t>(r.user_ids.size()), "rows");
  FUZZ_CHECK(r.matrix.cols() == static_cast<int64_t>(r.item_ids.size()), "cols");
  FUZZ_CHECK(r.matrix.nnz() > 0, "a result without entries");
  for (float w : r.matrix.values()) {
    FUZZ_CHECK(std::isfinite(w) && w >= 0, absl::StrCat("weight ", w));
  }
  for (uint32_t col : r.matrix.indices()) {
    FUZZ_CHECK(col < r.item_ids.size(), "column index");
  }
  FUZZ_CHECK(r.timestamps.empty() || r.timestamps.size() == r.matrix.indices().size(),
             "timestamps not aligned with entries");
  for (int64_t t : r.timestamps) FUZZ_CHECK(t >= 0, absl::StrCat("timestamp ", t));
  FUZZ_CHECK(stats.bytes_read == static_cast<int64_t>(file.size()),
             absl::StrCat("bytes_read ", stats.bytes_read, " of ", file.size()));
  const uint32_t crc = static_cast<uint32_t>(
      crc32(crc32(0, nullptr, 0), reinterpret_cast<const Bytef*>(file.data()), file.size()));
  FUZZ_CHECK(stats.crc32 == crc, "crc32");
  FUZZ_CHECK(stats.rows_read - stats.rows_skipped - stats.duplicates_merged == r.matrix.nnz(),
             absl::StrCat("rows ", stats.rows_read, " skipped ", stats.rows_skipped,
                          " merged ", stats.duplicates_merged, " entries ", r.matrix.nnz()));
  FUZZ_CHECK(options.on_error == OnError::kSkip || stats.rows_skipped == 0, "skipped rows");
  int64_t by_reason = 0;
  for (const auto& [reason, rows] : stats.skipped_by_reason) {
    FUZZ_CHECK(rows > 0, absl::StrCat("reason '", reason, "' counted ", rows));
    by_reason += rows;
  }
  FUZZ_CHECK(by_reason == stats.rows_skipped,
             absl::StrCat("skipped rows by reason add up to ", by_reason, ", not ",
                          stats.rows_skipped));
  FUZZ_CHECK(stats.columns >= 2 && stats.columns <= 4, absl::StrCat("columns ", stats.columns));
  return 0;
}
