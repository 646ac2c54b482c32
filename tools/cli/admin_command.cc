#include "tools/cli/admin_command.h"

#include <chrono>
#include <iostream>

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

}  // namespace

absl::StatusOr<std::vector<affinity::v1::CatalogItem>> ParseCatalogItemsJson(
    absl::string_view text, absl::string_view source) {
  std::vector<affinity::v1::CatalogItem> items;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    affinity::v1::CatalogItem item;
    const auto status = google::protobuf::util::JsonStringToMessage(std::string(line), &item);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ":", line_number, ": ", status.message().ToString()));
    }
    if (item.item_id().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ":", line_number, ": itemId must not be empty"));
    }
    items.push_back(std::move(item));
  }
  if (items.empty()) return absl::InvalidArgumentError(absl::StrCat(source, ": no items"));
  return items;
}

int RunAdminUpsert(const std::string& admin_server, int timeout_ms,
                   const std::vector<affinity::v1::CatalogItem>& items,
                   const Connection& connection) {
  affinity::v1::UpsertItemsRequest request;
  for (const auto& item : items) *request.add_items() = item;
  affinity::v1::UpsertItemsResponse response;
  grpc::ClientContext context;
  SetDeadline(context, timeout_ms);
  AddAdminToken(connection, &context);
  const grpc::Status status = ConnectAdmin(admin_server, connection)->UpsertItems(&context, request, &response);
  if (!status.ok()) {
    std::cerr << FormatRpcError(status) << "\n";
    return ExitCodeForRpc(status);
  }
  std::cout << "upserted " << response.upserted() << " item(s)\n";
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
