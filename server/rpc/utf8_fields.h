// Finds, in the serialized bytes of a request, a proto3 string field that
// is not valid UTF-8, without parsing the message (protobuf refuses to
// parse such bytes and says nothing about where). Pure function of its
// arguments; thread-safe; allocates only to build an error message.
//
// CheckUtf8Fields(type, wire):
//  - OK when every string field of `type` and of its nested messages, as
//    far as the bytes hold them, is valid UTF-8 (storage/utf8.h). Unknown
//    fields are not looked into (protobuf keeps them as bytes).
//  - InvalidArgument "PATH: expected valid UTF-8, got byte 0xE9 at offset 3"
//    for the first one that is not, PATH naming it as request validation
//    does: "user_id", "exclude_item_ids[2]", "recent[1].item_id",
//    "items[0].tags[1]" (indices count the field's occurrences).
//  - InvalidArgument "request: ..." when the bytes are not a well-formed
//    protobuf message (truncated field, bad wire type, unbalanced group,
//    nesting deeper than 100).
#ifndef AFFINITY_SERVER_RPC_UTF8_FIELDS_H_
#define AFFINITY_SERVER_RPC_UTF8_FIELDS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace affinity::server {

absl::Status CheckUtf8Fields(const google::protobuf::Descriptor& type, absl::string_view wire);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_RPC_UTF8_FIELDS_H_
