#include "server/rpc/utf8_checked_service.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>

#include "absl/status/status.h"
#include "server/rpc/utf8_fields.h"

namespace affinity::server {
namespace utf8_checked_internal {

grpc::Status ParseRequest(grpc_byte_buffer* buffer, google::protobuf::Message* request) {
  if (buffer == nullptr) return grpc::Status(grpc::StatusCode::INTERNAL, "No payload");
  grpc_byte_buffer_reader reader;
  if (!grpc_byte_buffer_reader_init(&reader, buffer)) {
    grpc_byte_buffer_destroy(buffer);
    return grpc::Status(grpc::StatusCode::INTERNAL, "Couldn't initialize byte buffer reader");
  }
  grpc_slice slice = grpc_byte_buffer_reader_readall(&reader);
  grpc_byte_buffer_reader_destroy(&reader);
  grpc_byte_buffer_destroy(buffer);
  const absl::string_view bytes(reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(slice)),
                                GRPC_SLICE_LENGTH(slice));
  // Checked before parsing: protobuf would refuse the bytes without saying
  // which field is wrong (and log an error for every such request).
  absl::Status checked = CheckUtf8Fields(*request->GetDescriptor(), bytes);
  grpc::Status status;
  if (!checked.ok()) {
    status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(checked.message()));
  } else if (!request->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          absl::StrCat("request: expected a serialized ",
                                       request->GetDescriptor()->full_name()));
  }
  grpc_slice_unref(slice);
  return status;
}

}  // namespace utf8_checked_internal

std::unique_ptr<Utf8CheckedService> Utf8CheckedRecommender(
    affinity::v1::Recommender::Service* service, std::function<void(double)> on_sent) {
  using Service = affinity::v1::Recommender::Service;
  const char* name = affinity::v1::Recommender::service_full_name();
  auto checked = std::make_unique<Utf8CheckedService>();
  checked->AddUnary(service, &Service::Recommend, name, "Recommend", on_sent);
  checked->AddUnary(service, &Service::SimilarItems, name, "SimilarItems", on_sent);
  checked->AddUnary(service, &Service::ReportOutcome, name, "ReportOutcome");
  return checked;
}

std::unique_ptr<Utf8CheckedService> Utf8CheckedCatalogAdmin(
    affinity::v1::CatalogAdmin::Service* service) {
  using Service = affinity::v1::CatalogAdmin::Service;
  const char* name = affinity::v1::CatalogAdmin::service_full_name();
  auto checked = std::make_unique<Utf8CheckedService>();
  checked->AddUnary(service, &Service::UpsertItems, name, "UpsertItems");
  checked->AddUnary(service, &Service::DeleteItems, name, "DeleteItems");
  return checked;
}

}  // namespace affinity::server
