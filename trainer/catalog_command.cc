#include "trainer/catalog_command.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "storage/catalog_loader.h"
#include "storage/catalog_store.h"
#include "trainer/train_flags.h"

ABSL_FLAG(std::string, catalog_format, "auto",
          "Catalog file format for `catalog`: auto, csv, movielens or jsonl.");

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

}  // namespace

absl::Status LoadCatalogCommand(std::ostream& out) {
  const std::string db = absl::GetFlag(FLAGS_db);
  const std::string input = absl::GetFlag(FLAGS_input);
  if (db.empty()) return absl::InvalidArgumentError("--db: expected the store directory");
  if (input.empty()) return absl::InvalidArgumentError("--input: expected a catalog file");
  auto format = CatalogFormatFlag();
  if (!format.ok()) return format.status();
  // Parse first: a bad file must not cost an open (and lock) of the store.
  auto items = storage::ReadCatalogFile(input, *format);
  if (!items.ok()) return items.status();
  auto store = storage::CatalogStore::Open(db, storage::CatalogStore::Mode::kReadWrite);
  if (!store.ok()) return store.status();
  if (absl::Status s = (*store)->Upsert(*items); !s.ok()) return s;
  auto count = (*store)->Count();
  out << "loaded " << items->size() << " items from " << input << " into the catalog"
      << (count.ok() ? absl::StrCat(" (", *count, " items in all)") : std::string()) << "\n";
  return absl::OkStatus();
}

}  // namespace affinity
