#include "tools/cli/admin_command.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "affinity/v1/admin.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tools/cli/grpc_error.h"

namespace affinity::cli {
namespace {

std::unique_ptr<affinity::v1::CatalogAdmin::Stub> ConnectAdmin(const std::string& server,
                                                               const Connection& connection) {
  return affinity::v1::CatalogAdmin::NewStub(grpc::CreateChannel(server, connection.credentials));
}

void SetDeadline(grpc::ClientContext& context, int timeout_ms) {
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
}

// Calls fn(line number, line) for every non-blank line of `text`.
absl::Status ForEachLine(absl::string_view text,
                         const std::function<absl::Status(int, absl::string_view)>& fn) {
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    if (absl::Status s = fn(line_number, line); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ParseItemLine(absl::string_view source, int line_number, absl::string_view line,
                           affinity::v1::CatalogItem* item) {
  const auto status = google::protobuf::util::JsonStringToMessage(std::string(line), item);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ":", line_number, ": ", status.message().ToString()));
  }
  if (item->item_id().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ":", line_number, ": itemId must not be empty"));
  }
  return absl::OkStatus();
}

// The CatalogItem fields the keys of the JSON object `line` (which parsed
// as a CatalogItem) name, item_id left out.
absl::StatusOr<google::protobuf::FieldMask> FieldsOf(absl::string_view line) {
  google::protobuf::Struct object;
  const auto status = google::protobuf::util::JsonStringToMessage(std::string(line), &object);
  if (!status.ok()) return absl::InvalidArgumentError(status.message().ToString());
  const google::protobuf::Descriptor* type = affinity::v1::CatalogItem::descriptor();
  google::protobuf::FieldMask fields;
  for (const auto& [key, value] : object.fields()) {
    const google::protobuf::FieldDescriptor* field = type->FindFieldByName(key);
    for (int i = 0; field == nullptr && i < type->field_count(); ++i) {
      if (type->field(i)->json_name() == key) field = type->field(i);
    }
    if (field == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown key \"", key, "\""));
    }
    if (field->number() == affinity::v1::CatalogItem::kItemIdFieldNumber) continue;
    fields.add_paths(field->name());
  }
  // The object's keys come in no particular order: name them in field order.
  std::sort(fields.mutable_paths()->begin(), fields.mutable_paths()->end(),
            [type](const std::string& a, const std::string& b) {
              return type->FindFieldByName(a)->index() < type->FindFieldByName(b)->index();
            });
  return fields;
}

}  // namespace

absl::StatusOr<std::vector<affinity::v1::CatalogItem>> ParseCatalogItemsJson(
    absl::string_view text, absl::string_view source) {
  std::vector<affinity::v1::CatalogItem> items;
  absl::Status s = ForEachLine(text, [&](int line_number, absl::string_view line) {
    return ParseItemLine(source, line_number, line, &items.emplace_back());
  });
  if (!s.ok()) return s;
  if (items.empty()) return absl::InvalidArgumentError(absl::StrCat(source, ": no items"));
  return items;
}

absl::StatusOr<affinity::v1::UpsertItemsRequest> ParseUpsertRequestJson(
    absl::string_view text, absl::string_view source, bool replace_items) {
  affinity::v1::UpsertItemsRequest request;
  absl::Status s = ForEachLine(text, [&](int line_number, absl::string_view line) {
    if (replace_items) return ParseItemLine(source, line_number, line, request.add_items());
    affinity::v1::ItemUpdate* update = request.add_updates();
    if (absl::Status parsed = ParseItemLine(source, line_number, line, update->mutable_item());
        !parsed.ok()) {
      return parsed;
    }
    absl::StatusOr<google::protobuf::FieldMask> fields = FieldsOf(line);
    if (!fields.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ":", line_number, ": ", fields.status().message()));
    }
    if (fields->paths_size() == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ":", line_number, ": no field to update besides itemId, expected keys such as "
          "\"inStock\" or \"title\" (or --replace_items to write whole items)"));
    }
    *update->mutable_update_mask() = *std::move(fields);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (request.items_size() + request.updates_size() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": no items"));
  }
  return request;
}

int RunAdminUpsert(const std::string& admin_server, int timeout_ms,
                   const affinity::v1::UpsertItemsRequest& request,
                   const Connection& connection) {
  affinity::v1::UpsertItemsResponse response;
  grpc::ClientContext context;
  SetDeadline(context, timeout_ms);
  AddAdminToken(connection, &context);
  const grpc::Status status = ConnectAdmin(admin_server, connection)->UpsertItems(&context, request, &response);
  if (!status.ok()) {
    std::cerr << FormatRpcError(status) << "\n";
    return ExitCodeForRpc(status);
  }
  std::cout << "upserted " << response.upserted() << " item(s): " << response.added()
            << " added, " << response.updated() << " updated, " << response.unchanged()
            << " unchanged\n";
  return 0;
}

int RunAdminDelete(const std::string& admin_server, int timeout_ms,
                   const std::vector<std::string>& item_ids, const Connection& connection) {
  affinity::v1::DeleteItemsRequest request;
  for (const auto& id : item_ids) request.add_item_ids(id);
  affinity::v1::DeleteItemsResponse response;
  grpc::ClientContext context;
  SetDeadline(context, timeout_ms);
  AddAdminToken(connection, &context);
  const grpc::Status status = ConnectAdmin(admin_server, connection)->DeleteItems(&context, request, &response);
  if (!status.ok()) {
    std::cerr << FormatRpcError(status) << "\n";
    return ExitCodeForRpc(status);
  }
  std::cout << "deleted " << response.deleted() << " item(s)\n";
  return 0;
}

}  // namespace affinity::cli
