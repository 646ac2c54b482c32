#include "server/rpc/utf8_fields.h"

#include <cstdint>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "storage/utf8.h"

namespace affinity::server {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

constexpr int kMaxDepth = 100;  // protobuf's default recursion limit

enum class Scan { kValid, kInvalidUtf8, kMalformed };

// Reads the protobuf wire format over a string_view, accepting what
// protobuf's parser accepts: tags of at most 5 bytes (truncated to 32
// bits), lengths of at most 5 bytes below 2^31, varints of at most 10.
class WireReader {
 public:
  explicit WireReader(absl::string_view bytes) : rest_(bytes) {}
  bool AtEnd() const { return rest_.empty(); }
  bool Tag(uint32_t* tag) {
    uint64_t value = 0;
    if (!Varint(&value, 5)) return false;
    *tag = static_cast<uint32_t>(value);
    return true;
  }
  bool Length(uint64_t* length) {
    return Varint(length, 5) && *length <= static_cast<uint64_t>(INT32_MAX) - 16;
  }
  bool Varint(uint64_t* value, int max_bytes = 10) {
    uint64_t result = 0;
    for (int shift = 0; shift < 7 * max_bytes; shift += 7) {
      if (rest_.empty()) return false;
      const uint8_t byte = static_cast<uint8_t>(rest_.front());
      rest_.remove_prefix(1);
      result |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) {
        *value = result;
        return true;
      }
    }
    return false;
  }
  bool Take(uint64_t n, absl::string_view* out) {
    if (n > rest_.size()) return false;
    *out = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return true;
  }

 private:
  absl::string_view rest_;
};

// Request messages have a handful of fields: a scan beats the pool's hash
// lookup.
const FieldDescriptor* FieldByNumber(const Descriptor* type, uint32_t number) {
  if (type == nullptr) return nullptr;
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    if (static_cast<uint32_t>(field->number()) == number) return field;
  }
  return nullptr;
}

// Scans the fields of one message of `type` (null: an unknown group, whose
// strings are not checked) until the end of `in`, or until the end-group
// tag of `group` when it is not 0. On kInvalidUtf8 *path is the field's
// path below this message and *where the offending byte.
Scan ScanFields(WireReader& in, const Descriptor* type, uint32_t group, int depth,
                std::string* path, std::string* where) {
  if (depth > kMaxDepth) return Scan::kMalformed;
  // Occurrences so far of each known field, for repeated-field indices.
  absl::InlinedVector<int, 16> seen(type != nullptr ? type->field_count() : 0, 0);
  while (!in.AtEnd()) {
    uint32_t tag = 0;
    if (!in.Tag(&tag)) return Scan::kMalformed;
    const uint32_t number = tag >> 3;
    if (number == 0) return Scan::kMalformed;
    const FieldDescriptor* field = FieldByNumber(type, number);
    absl::string_view bytes;
    uint64_t ignored = 0;
    switch (tag & 7) {
      case 0:  // varint
        if (!in.Varint(&ignored)) return Scan::kMalformed;
        break;
      case 1:  // fixed64
        if (!in.Take(8, &bytes)) return Scan::kMalformed;
        break;
      case 5:  // fixed32
        if (!in.Take(4, &bytes)) return Scan::kMalformed;
        break;
      case 3: {  // start group: its fields are unknown to proto3 messages
        const Scan s = ScanFields(in, nullptr, number, depth + 1, path, where);
        if (s != Scan::kValid) return s;
        break;
      }
      case 4:  // end group
        return group == number ? Scan::kValid : Scan::kMalformed;
      case 2: {  // length-delimited
        uint64_t length = 0;
        if (!in.Length(&length) || !in.Take(length, &bytes)) {
          return Scan::kMalformed;
        }
        if (field == nullptr || (field->type() != FieldDescriptor::TYPE_STRING &&
                                 field->type() != FieldDescriptor::TYPE_MESSAGE)) {
          break;  // unknown, or bytes / packed scalars: nothing to check
        }
        const int index = seen[field->index()]++;
        // Built only for an error.
        auto name = [&] {
          return field->is_repeated() ? absl::StrCat(field->name(), "[", index, "]")
                                      : field->name();
        };
        if (field->type() == FieldDescriptor::TYPE_STRING) {
          if (!storage::IsValidUtf8(bytes)) {
            *path = name();
            *where = storage::InvalidUtf8Position(bytes);
            return Scan::kInvalidUtf8;
          }
        } else {
          WireReader nested(bytes);
          const Scan s = ScanFields(nested, field->message_type(), 0, depth + 1, path, where);
          if (s == Scan::kInvalidUtf8) *path = absl::StrCat(name(), ".", *path);
          if (s != Scan::kValid) return s;
        }
        break;
      }
      default:
        return Scan::kMalformed;
    }
  }
  // The bytes ran out inside a group.
  return group == 0 ? Scan::kValid : Scan::kMalformed;
}

}  // namespace

absl::Status CheckUtf8Fields(const Descriptor& type, absl::string_view wire) {
  WireReader in(wire);
  std::string path, where;
  switch (ScanFields(in, &type, 0, 0, &path, &where)) {
    case Scan::kValid:
      return absl::OkStatus();
    case Scan::kInvalidUtf8:
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": expected valid UTF-8, got ", where));
    case Scan::kMalformed:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat("request: expected a serialized ",
                                                 type.full_name(), ", got ", wire.size(),
                                                 " bytes that are not a protobuf message"));
}

}  // namespace affinity::server
