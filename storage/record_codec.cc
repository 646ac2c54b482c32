#include "storage/record_codec.h"

#include <algorithm>
#include <cstring>

#include "absl/base/config.h"
#include "absl/strings/str_cat.h"

#ifndef ABSL_IS_LITTLE_ENDIAN
#error "record_codec stores host-order floats and expects a little-endian host"
#endif

namespace affinity::storage {
namespace {

template <typename T>
void Append(T value, std::string* out) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(T));
}

template <typename T>
void AppendSpan(absl::Span<const T> values, std::string* out) {
  out->append(reinterpret_cast<const char*>(values.data()),
              values.size() * sizeof(T));
}

template <typename T>
T Load(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

}  // namespace

void EncodeItem(absl::string_view item_id, absl::Span<const float> factors,
                std::string* out) {
  out->clear();
  out->reserve(4 + factors.size() * 4 + item_id.size());
  Append<uint32_t>(static_cast<uint32_t>(factors.size()), out);
  AppendSpan(factors, out);
  out->append(item_id.data(), item_id.size());
}

void EncodeUser(int64_t index, absl::Span<const float> factors,
                absl::Span<const uint32_t> seen, std::string* out) {
  out->clear();
  out->reserve(16 + factors.size() * 4 + seen.size() * 4);
  Append<int64_t>(index, out);
  Append<uint32_t>(static_cast<uint32_t>(factors.size()), out);
  Append<uint32_t>(static_cast<uint32_t>(seen.size()), out);
  AppendSpan(factors, out);
  AppendSpan(seen, out);
}

std::string EncodePopular(absl::Span<const uint32_t> items) {
  std::string out;
  AppendSpan(items, &out);
  return out;
}

absl::StatusOr<ItemView> DecodeItem(absl::string_view value) {
  if (value.size() < 4) {
    return absl::DataLossError(absl::StrCat(
        "item value of ", value.size(), " bytes, expected at least 4"));
  }
  ItemView item;
  item.dims = Load<uint32_t>(value.data());
  const size_t vector_bytes = static_cast<size_t>(item.dims) * 4;
  if (value.size() - 4 < vector_bytes) {
    return absl::DataLossError(
        absl::StrCat("item value of ", value.size(), " bytes, expected at least ",
                     4 + vector_bytes, " for ", item.dims, " dims"));
  }
  item.factor_bytes = value.substr(4, vector_bytes);
  item.item_id = value.substr(4 + vector_bytes);
  return item;
}

void CopyFactors(const ItemView& item, absl::Span<float> out) {
  std::memcpy(out.data(), item.factor_bytes.data(),
              std::min(out.size() * 4, item.factor_bytes.size()));
}

absl::StatusOr<UserRecord> DecodeUser(absl::string_view value) {
  if (value.size() < 16) {
    return absl::DataLossError(absl::StrCat(
        "user value of ", value.size(), " bytes, expected at least 16"));
  }
  UserRecord user;
  user.index = Load<int64_t>(value.data());
  const uint32_t dims = Load<uint32_t>(value.data() + 8);
  const uint32_t seen = Load<uint32_t>(value.data() + 12);
  const size_t expected = 16 + (static_cast<size_t>(dims) + seen) * 4;
  if (value.size() != expected) {
    return absl::DataLossError(
        absl::StrCat("user value of ", value.size(), " bytes, expected ",
                     expected, " for ", dims, " dims and ", seen, " seen items"));
  }
  user.factors.resize(dims);
  std::memcpy(user.factors.data(), value.data() + 16, dims * 4);
  user.seen.resize(seen);
  // An empty vector's data() may be null, which memcpy may not be given.
  if (seen > 0) std::memcpy(user.seen.data(), value.data() + 16 + dims * 4, seen * 4);
  return user;
}

absl::StatusOr<std::vector<uint32_t>> DecodePopular(absl::string_view value) {
  if (value.size() % 4 != 0) {
    return absl::DataLossError(absl::StrCat("popular items value of ",
                                            value.size(),
                                            " bytes, expected a multiple of 4"));
  }
  std::vector<uint32_t> items(value.size() / 4);
  if (!value.empty()) std::memcpy(items.data(), value.data(), value.size());
  return items;
}

}  // namespace affinity::storage
