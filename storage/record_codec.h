// Binary values of the model store (keys in storage/keys.h). Fixed layouts,
// all integers and floats little-endian, no padding:
//
//   item value:    u32 dims | dims x f32 vector | item id bytes (the rest)
//   user value:    i64 index | u32 dims | u32 seen count n |
//                  dims x f32 vector | n x u32 seen item indices (ascending)
//   popular value: n x u32 item indices, most popular first
//
// Decoders return DataLoss naming the key's role when a value does not
// match its layout.
#ifndef AFFINITY_STORAGE_RECORD_CODEC_H_
#define AFFINITY_STORAGE_RECORD_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "storage/model_store.h"

namespace affinity::storage {

// Appends the encoded value to *out (cleared first).
void EncodeItem(absl::string_view item_id, absl::Span<const float> factors,
                std::string* out);
void EncodeUser(int64_t index, absl::Span<const float> factors,
                absl::Span<const uint32_t> seen, std::string* out);
std::string EncodePopular(absl::Span<const uint32_t> items);

struct ItemView {
  absl::string_view item_id;
  // Points into the value; copy it out before the value goes away.
  absl::string_view factor_bytes;
  uint32_t dims = 0;
};
absl::StatusOr<ItemView> DecodeItem(absl::string_view value);
// Copies the item's vector into out (exactly dims floats).
void CopyFactors(const ItemView& item, absl::Span<float> out);

absl::StatusOr<UserRecord> DecodeUser(absl::string_view value);
absl::StatusOr<std::vector<uint32_t>> DecodePopular(absl::string_view value);

}  // namespace affinity::storage

#endif  // AFFINITY_STORAGE_RECORD_CODEC_H_
