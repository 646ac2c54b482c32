#include "server/rpc/catalog_admin_service.h"

#include <string>
#include <vector>

#include "server/rpc/upsert_patches.h"

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
  absl::StatusOr<std::vector<storage::CatalogPatch>> patches = UpsertPatches(*request);
  if (!patches.ok()) return ToGrpc(patches.status());
  absl::StatusOr<storage::CatalogWriteCounts> counts = catalog_->Patch(*patches);
  if (!counts.ok()) return ToGrpc(counts.status());
  response->set_upserted(static_cast<int64_t>(patches->size()));
  response->set_added(counts->added);
  response->set_updated(counts->updated);
  response->set_unchanged(counts->unchanged);
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
