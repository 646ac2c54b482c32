#include "server/rpc/catalog_admin_service.h"

#include <string>
#include <vector>

namespace affinity::server {
namespace {

grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

}  // namespace

CatalogAdminService::CatalogAdminService(rules::CatalogView* catalog,
                                         std::function<void()> on_change)
    : catalog_(catalog), on_change_(std::move(on_change)) {}

grpc::Status CatalogAdminService::UpsertItems(grpc::ServerContext* context,
                                              const affinity::v1::UpsertItemsRequest* request,
                                              affinity::v1::UpsertItemsResponse* response) {
  if (grpc::Status s = CheckAdminAuth(auth_, context); !s.ok()) return s;
  if (absl::Status s = ValidateUpsertItems(*request, limits_); !s.ok()) return ToGrpc(s);
  const std::vector<affinity::v1::CatalogItem> items(request->items().begin(),
                                                     request->items().end());
  absl::StatusOr<int64_t> n = catalog_->Upsert(items);
  if (!n.ok()) return ToGrpc(n.status());
  response->set_upserted(*n);
  if (on_change_) on_change_();
  return grpc::Status::OK;
}

grpc::Status CatalogAdminService::DeleteItems(grpc::ServerContext* context,
                                              const affinity::v1::DeleteItemsRequest* request,
                                              affinity::v1::DeleteItemsResponse* response) {
  if (grpc::Status s = CheckAdminAuth(auth_, context); !s.ok()) return s;
  if (absl::Status s = ValidateDeleteItems(*request, limits_); !s.ok()) return ToGrpc(s);
  const std::vector<std::string> ids(request->item_ids().begin(), request->item_ids().end());
  absl::StatusOr<int64_t> n = catalog_->Delete(ids);
  if (!n.ok()) return ToGrpc(n.status());
  response->set_deleted(*n);
  if (on_change_) on_change_();
  return grpc::Status::OK;
}

}  // namespace affinity::server
