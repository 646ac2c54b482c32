// Fuzz target: the catalog parsers (storage/catalog_parsers.h): CSV,
// MovieLens movies.csv and JSON Lines, chosen by the input's first byte; the
// rest is the file's text.
//
// Invariants checked beyond "no crash": an error names the file; parsed
// items have non-empty, unique, NUL-free ids, valid UTF-8 in every text
// field, and a finite price when one is set; each row names only
// CatalogItem fields.
#include <cmath>
#include <cstdint>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/field_mask_util.h"
#include "storage/catalog_parsers.h"
#include "storage/utf8.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

void CheckText(absl::string_view field, absl::string_view text) {
  FUZZ_CHECK(affinity::storage::IsValidUtf8(text),
             absl::StrCat(field, ": ", affinity::storage::InvalidUtf8Position(text)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace affinity::storage;
  affinity::fuzz::FuzzInput in(data, size);
  const size_t parser = in.TakeChoice(3);
  const absl::string_view text = in.rest();
  static const char* const kNames[] = {"items.csv", "movies.csv", "items.jsonl"};
  const char* name = kNames[parser];
  absl::StatusOr<CatalogFileRows> rows =
      parser == 0   ? ParseCatalogCsv(text, name)
      : parser == 1 ? ParseMovieLensMovies(text, name)
                    : ParseCatalogJsonLines(text, name);
  if (!rows.ok()) {
    FUZZ_CHECK(absl::StartsWith(rows.status().message(), name), rows.status().ToString());
    return 0;
  }
  absl::flat_hash_set<std::string> ids;
  for (const CatalogPatch& patch : rows->rows) {
    const affinity::v1::CatalogItem& item = patch.item;
    // Every patch names only CatalogItem fields (what the store accepts).
    FUZZ_CHECK(google::protobuf::util::FieldMaskUtil::IsValidFieldMask<affinity::v1::CatalogItem>(
                   patch.fields),
               patch.fields.DebugString());
    FUZZ_CHECK(!item.item_id().empty(), "empty item id");
    FUZZ_CHECK(FindNul(item.item_id()) == absl::string_view::npos, "NUL in item id");
    FUZZ_CHECK(ids.insert(item.item_id()).second, absl::StrCat("duplicate id ", item.item_id()));
    CheckText("item_id", item.item_id());
    CheckText("title", item.title());
    CheckText("brand", item.brand());
    CheckText("region", item.region());
    for (const std::string& c : item.categories()) CheckText("categories", c);
    for (const std::string& t : item.tags()) CheckText("tags", t);
    FUZZ_CHECK(!item.has_price() || std::isfinite(item.price()),
               absl::StrCat("price ", item.price()));
    // What the catalog store writes and reads back.
    affinity::v1::CatalogItem back;
    FUZZ_CHECK(back.ParseFromString(item.SerializeAsString()), "round trip");
  }
  return 0;
}
