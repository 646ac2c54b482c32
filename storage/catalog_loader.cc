#include "storage/catalog_loader.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace affinity::storage {
namespace {

CatalogFormat Detect(const std::string& path, absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(path);
  if (absl::EndsWith(lower, ".jsonl") || absl::EndsWith(lower, ".ndjson") ||
      absl::EndsWith(lower, ".json")) {
    return CatalogFormat::kJsonLines;
  }
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");
  absl::string_view first_line = text.substr(0, text.find('\n'));
  if (absl::StripAsciiWhitespace(first_line) == "movieId,title,genres") {
    return CatalogFormat::kMovieLens;
  }
  return CatalogFormat::kCsv;
}

}  // namespace

absl::StatusOr<CatalogFileRows> ReadCatalogFile(const std::string& path,
                                                const CatalogReadOptions& options) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::NotFoundError(absl::StrCat("cannot open catalog file ", path));
  }
  std::stringstream buffer;
  buffer << file.rdbuf();
  if (file.bad()) {
    return absl::DataLossError(absl::StrCat("cannot read catalog file ", path));
  }
  const std::string text = buffer.str();
  CatalogFormat format = options.format;
  if (format == CatalogFormat::kAuto) format = Detect(path, text);
  switch (format) {
    case CatalogFormat::kJsonLines:
      return ParseCatalogJsonLines(text, path, options.columns);
    case CatalogFormat::kMovieLens:
      if (!options.columns.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ": --columns does not apply to a MovieLens movies.csv (its columns are "
                  "movieId,title,genres), expected a CSV or JSON Lines file; load it as CSV "
                  "with --catalog_format=csv --columns=movieId:item_id,genres:categories"));
      }
      return ParseMovieLensMovies(text, path);
    case CatalogFormat::kCsv:
    case CatalogFormat::kAuto:
      break;
  }
  return ParseCatalogCsv(text, path, options.columns);
}

absl::StatusOr<CatalogWriteCounts> WriteCatalogRows(const std::string& path,
                                                    const CatalogFileRows& file,
                                                    CatalogStore& store, CatalogLoadMode mode) {
  if (mode == CatalogLoadMode::kUpdate) return store.Patch(file.rows);
  if (file.rows.empty()) {
    absl::StatusOr<int64_t> count = store.Count();
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": no items, expected at least one to replace the catalog with (replacing "
              "would remove all ",
        count.ok() ? absl::StrCat(*count) : std::string("the"), " items of the catalog)"));
  }
  return store.Replace(file.rows);
}

absl::StatusOr<CatalogWriteCounts> LoadCatalogFile(const std::string& path, CatalogStore& store,
                                                   const CatalogReadOptions& options,
                                                   CatalogLoadMode mode) {
  absl::StatusOr<CatalogFileRows> file = ReadCatalogFile(path, options);
  if (!file.ok()) return file.status();
  return WriteCatalogRows(path, *file, store, mode);
}

}  // namespace affinity::storage
