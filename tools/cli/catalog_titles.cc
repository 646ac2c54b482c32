#include "tools/cli/catalog_titles.h"

#include <filesystem>
#include <memory>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "storage/catalog_store.h"

namespace affinity::cli {

absl::StatusOr<TitleLookup> OpenCatalogTitles(const std::string& dir) {
  // A follower of a missing store would create it; a client must not.
  const std::filesystem::path catalog = std::filesystem::path(dir) / "catalog";
  std::error_code error;
  if (!std::filesystem::is_directory(catalog, error)) {
    return absl::NotFoundError(absl::StrCat("no catalog at ", catalog.string()));
  }
  absl::StatusOr<std::unique_ptr<storage::CatalogStore>> opened =
      storage::CatalogStore::Open(dir, storage::CatalogStore::Mode::kFollower);
  if (!opened.ok()) return opened.status();
  std::shared_ptr<const storage::CatalogStore> store = *std::move(opened);
  return TitleLookup([store](absl::string_view item_id) -> std::string {
    absl::StatusOr<affinity::v1::CatalogItem> item = store->Get(item_id);
    return item.ok() ? item->title() : std::string();
  });
}

}  // namespace affinity::cli
