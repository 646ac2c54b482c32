#include "storage/catalog_loader.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "storage/catalog_parsers.h"

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

absl::StatusOr<std::vector<affinity::v1::CatalogItem>> ReadCatalogFile(
    const std::string& path, CatalogFormat format) {
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
  if (format == CatalogFormat::kAuto) format = Detect(path, text);
  switch (format) {
    case CatalogFormat::kJsonLines:
      return ParseCatalogJsonLines(text, path);
    case CatalogFormat::kMovieLens:
      return ParseMovieLensMovies(text, path);
    case CatalogFormat::kCsv:
    case CatalogFormat::kAuto:
      break;
  }
  return ParseCatalogCsv(text, path);
}

absl::StatusOr<int64_t> LoadCatalogFile(const std::string& path, CatalogStore& store,
                                        CatalogFormat format) {
  absl::StatusOr<std::vector<affinity::v1::CatalogItem>> items =
      ReadCatalogFile(path, format);
  if (!items.ok()) return items.status();
  if (absl::Status s = store.Upsert(*items); !s.ok()) return s;
  return static_cast<int64_t>(items->size());
}

}  // namespace affinity::storage
