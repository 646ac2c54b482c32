// gRPC server reflection v1 (grpc.reflection.v1.ServerReflection), served
// beside the v1alpha service of Debian's grpc++_reflection, which has no
// v1. Both answer from the same place: the services the server registered
// and the process's generated descriptor pool (every .proto linked in).
//
// Contract: ReflectionV1Option() added to a ServerBuilder registers the
// service on the server it builds (the server owns it); the service answers
// list_services, file_by_filename, file_containing_symbol,
// file_containing_extension and all_extension_numbers_of_type as v1alpha
// does (a file comes with the files it imports; an unknown name is an
// error_response with NOT_FOUND). Thread-safe: each stream is independent.
#ifndef AFFINITY_SERVER_RPC_REFLECTION_V1_H_
#define AFFINITY_SERVER_RPC_REFLECTION_V1_H_

#include <grpcpp/impl/server_builder_option.h>

#include <memory>

namespace affinity::server {

std::unique_ptr<grpc::ServerBuilderOption> ReflectionV1Option();

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_RPC_REFLECTION_V1_H_
