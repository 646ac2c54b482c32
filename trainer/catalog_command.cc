#include "trainer/catalog_command.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "storage/catalog_loader.h"
#include "storage/catalog_store.h"
#include "trainer/train_flags.h"

ABSL_FLAG(std::string, catalog_format, "auto",
          "Catalog file format for `catalog`: auto, csv, movielens or jsonl.");
ABSL_FLAG(std::string, columns, "",
          "catalog: the file's own column names, THEIRS:OURS,... e.g. "
          "sku:item_id,name:title,stock:in_stock (ours: item_id, title, category, "
          "categories, brand, price, in_stock, created_at, region, tags).");
ABSL_FLAG(bool, replace, false,
          "catalog: make the catalog exactly the file: items absent from it are removed, "
          "columns absent from it take their defaults (without it, only the file's columns "
          "of the file's items change).");

namespace affinity {
namespace {

absl::StatusOr<storage::CatalogFormat> CatalogFormatFlag() {
  const std::string name = absl::GetFlag(FLAGS_catalog_format);
  if (name == "auto") return storage::CatalogFormat::kAuto;
  if (name == "csv") return storage::CatalogFormat::kCsv;
  if (name == "movielens") return storage::CatalogFormat::kMovieLens;
  if (name == "jsonl") return storage::CatalogFormat::kJsonLines;
  return absl::InvalidArgumentError(absl::StrCat(
      "--catalog_format: got '", name, "', expected auto, csv, movielens or jsonl"));
}

std::string Quoted(const std::vector<std::string>& names) {
  return absl::StrJoin(names, ", ", [](std::string* out, const std::string& name) {
    absl::StrAppend(out, "'", name, "'");
  });
}

}  // namespace

absl::Status LoadCatalogCommand(std::ostream& out, std::ostream& err) {
  const std::string db = absl::GetFlag(FLAGS_db);
  const std::string input = absl::GetFlag(FLAGS_input);
  if (db.empty()) return absl::InvalidArgumentError("--db: expected the store directory");
  if (input.empty()) return absl::InvalidArgumentError("--input: expected a catalog file");
  storage::CatalogReadOptions options;
  auto format = CatalogFormatFlag();
  if (!format.ok()) return format.status();
  options.format = *format;
  auto columns = storage::CatalogColumnMap::Parse(absl::GetFlag(FLAGS_columns));
  if (!columns.ok()) return columns.status();
  options.columns = *std::move(columns);
  const bool replace = absl::GetFlag(FLAGS_replace);
  // Parse first: a bad file must not cost an open (and lock) of the store.
  auto file = storage::ReadCatalogFile(input, options);
  if (!file.ok()) return file.status();
  if (!file->ignored_columns.empty()) {
    err << "note: " << input << ": ignored columns that are not catalog columns: "
        << Quoted(file->ignored_columns)
        << " (map one with --columns=THEIRS:OURS)\n";
  }
  auto store = storage::CatalogStore::Open(db, storage::CatalogStore::Mode::kReadWrite);
  if (!store.ok()) return store.status();
  auto counts = storage::WriteCatalogRows(
      input, *file, **store,
      replace ? storage::CatalogLoadMode::kReplace : storage::CatalogLoadMode::kUpdate);
  if (!counts.ok()) return counts.status();
  auto total = (*store)->Count();
  out << (replace ? "replaced the catalog with " : "loaded ") << file->rows.size()
      << " items from " << input << ": " << counts->added << " added, " << counts->updated
      << " updated, " << counts->unchanged << " unchanged"
      << (replace ? absl::StrCat(", ", counts->removed, " removed") : std::string())
      << (total.ok() ? absl::StrCat(" (", *total, " items in the catalog)") : std::string())
      << "\n";
  return absl::OkStatus();
}

}  // namespace affinity
