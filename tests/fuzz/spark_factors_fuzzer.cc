// Fuzz target: the Spark-factor import reader
// (trainer/import/spark_factors_reader.h), as `affinity-train import` calls
// it, on one file or on a directory of up to three part files.
//
// Input: one byte (bit 0: a directory, else one file; bits 1-2: the read
// buffer, 64 bytes to 64 KiB, also the longest line), then the text; in a
// directory the text is cut at NUL bytes into part-00000, part-00001 and
// part-00002 (next to a _SUCCESS file the reader must skip).
// Invariants checked beyond "no crash": an error names the input; a result
// has one factor row per id, unique non-empty ids of valid UTF-8 of at most
// kMaxSparkIdBytes bytes, at least one column, and only finite values.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/utf8.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/scratch_dir.h"
#include "trainer/import/spark_factors_reader.h"

namespace {

// DIR/factors with a _SUCCESS file, as Spark writes it.
std::string FactorsDir() {
  static const std::string* dir = [] {
    auto* d = new std::string(affinity::fuzz::ScratchDir() + "/factors");
    FUZZ_CHECK(::mkdir(d->c_str(), 0700) == 0, *d);
    affinity::fuzz::WriteScratchFile(*d + "/_SUCCESS", "");
    return d;
  }();
  return *dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace affinity;
  fuzz::FuzzInput in(data, size);
  static const size_t kBuffers[] = {64, 300, 4096, 65536};
  const uint8_t option = in.TakeByte();
  const bool directory = (option & 1) != 0;
  const size_t buffer_bytes = kBuffers[(option >> 1) % 4];
  std::string path;
  if (directory) {
    path = FactorsDir();
    for (int part = 0; part < 3; ++part) {
      const std::string file = absl::StrCat(path, "/part-0000", part, ".json");
      if (part == 0 || !in.rest().empty()) {
        fuzz::WriteScratchFile(file, in.TakeUntil('\0'));
      } else {
        ::unlink(file.c_str());
      }
    }
  } else {
    path = fuzz::ScratchDir() + "/part-00000.json";
    fuzz::WriteScratchFile(path, in.rest());
  }

  absl::StatusOr<FactorTable> table = ReadSparkFactors(path, buffer_bytes);
  if (!table.ok()) {
    FUZZ_CHECK(absl::StrContains(table.status().message(), path), table.status().ToString());
    return 0;
  }
  FUZZ_CHECK(!table->ids.empty(), "a table without rows");
  FUZZ_CHECK(table->factors.rows() == static_cast<Eigen::Index>(table->ids.size()), "rows");
  FUZZ_CHECK(table->factors.cols() >= 1, "no feature columns");
  FUZZ_CHECK(!table->files.empty(), "no files");
  absl::flat_hash_set<absl::string_view> seen;
  for (const std::string& id : table->ids) {
    FUZZ_CHECK(!id.empty() && id.size() <= kMaxSparkIdBytes, absl::StrCat("id of ", id.size()));
    FUZZ_CHECK(storage::IsValidUtf8(id), storage::InvalidUtf8Position(id));
    FUZZ_CHECK(seen.insert(id).second, absl::StrCat("duplicate id ", id));
  }
  FUZZ_CHECK(table->factors.allFinite(), "a feature that is not finite");
  return 0;
}
