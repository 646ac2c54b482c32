// CatalogAdminService: affinity.v1.CatalogAdmin (proto/affinity/v1/admin.proto)
// over a CatalogView. Upserts (whole items, or the fields of an update
// mask: server/rpc/upsert_patches.h) and deletes are written to the RocksDB
// catalog and are in the next request's rules at once (the view publishes
// a new snapshot). Served on the admin port, loopback by default.
#ifndef AFFINITY_SERVER_RPC_CATALOG_ADMIN_SERVICE_H_
#define AFFINITY_SERVER_RPC_CATALOG_ADMIN_SERVICE_H_

#include <functional>

#include "affinity/v1/admin.grpc.pb.h"
#include "server/rpc/admin_auth.h"
#include "server/rpc/admin_validation.h"
#include "server/rules/catalog_view.h"

namespace affinity::server {

class CatalogAdminService final : public affinity::v1::CatalogAdmin::Service {
 public:
  // `catalog` must outlive the service; `on_change` (may be empty) runs
  // after every successful write.
  CatalogAdminService(rules::CatalogView* catalog, std::function<void()> on_change);
  // Every call must carry the admin token (admin_auth.h); `auth` outlives
  // the service. Set before serving; unset: no token is asked for.
  void SetAuth(const AdminAuth* auth) { auth_ = auth; }
  // Bounds on one call (admin_validation.h); set before serving.
  void SetLimits(const AdminLimits& limits) { limits_ = limits; }

  grpc::Status UpsertItems(grpc::ServerContext* context,
                           const affinity::v1::UpsertItemsRequest* request,
                           affinity::v1::UpsertItemsResponse* response) override;
  grpc::Status DeleteItems(grpc::ServerContext* context,
                           const affinity::v1::DeleteItemsRequest* request,
                           affinity::v1::DeleteItemsResponse* response) override;

 private:
  rules::CatalogView* catalog_;
  std::function<void()> on_change_;
  const AdminAuth* auth_ = nullptr;
  AdminLimits limits_;
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_RPC_CATALOG_ADMIN_SERVICE_H_
