// Reads the factor tables of a Spark MLlib ALSModel as written by
// `model.userFactors.write.json(path)` / `model.itemFactors.write.json(path)`:
// a directory of part-* files, one {"id": 12, "features": [0.1, ...]} object
// per line.
//
// Contract:
//  - `path` is a directory or one file. In a directory only regular files
//    whose names start with "part-" are read, in name order; hidden files,
//    "_SUCCESS" and "*.crc" are ignored; no part file is an error.
//  - Files are streamed line by line (never held whole); each line is
//    parsed with protobuf's JSON parser. Blank lines are skipped. Several
//    files are parsed at once (one thread per core); the result and the
//    error reported are those of reading the files one after another.
//  - Ids: a JSON integer (of magnitude below 2^53, written in decimal: 12
//    and 12.0 are both "12") or a non-empty JSON string of valid UTF-8 of at
//    most kMaxSparkIdBytes bytes. Other members of the object are ignored.
//  - Features: a non-empty array of numbers, finite as float32; every row
//    has as many as the first one.
//  - Errors are InvalidArgument "FILE:LINE: what, expected what" (a ragged
//    row names the first row's dims and place, a duplicate id the line of
//    its first occurrence); missing files NotFound; unreadable ones the
//    errno's code; input without a single row InvalidArgument naming it.
//  - Lines longer than `buffer_bytes` (the read buffer of each file) are
//    errors naming the file and line.
//  - Memory: the vectors (as float32, twice while they are stacked) and the
//    ids. No state is shared: calls may run concurrently.
#ifndef AFFINITY_TRAINER_IMPORT_SPARK_FACTORS_READER_H_
#define AFFINITY_TRAINER_IMPORT_SPARK_FACTORS_READER_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "trainer/als/factors.h"

namespace affinity {

inline constexpr size_t kMaxSparkIdBytes = 256;
inline constexpr size_t kSparkReadBufferBytes = size_t{4} << 20;

struct FactorTable {
  std::vector<std::string> ids;  // in file order
  FactorMatrix factors;          // row r is the vector of ids[r]
  std::vector<std::string> files;  // the files read, in order
};

absl::StatusOr<FactorTable> ReadSparkFactors(const std::string& path,
                                             size_t buffer_bytes = kSparkReadBufferBytes);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_IMPORT_SPARK_FACTORS_READER_H_
