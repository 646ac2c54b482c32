#include "server/rpc/reflection_v1.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/impl/server_initializer.h>

#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"

namespace affinity::server {
namespace {

namespace v1 = grpc::reflection::v1;
using google::protobuf::DescriptorPool;
using google::protobuf::FileDescriptor;

class ReflectionV1Service final : public v1::ServerReflection::Service {
 public:
  void SetServiceList(const std::vector<std::string>* services) {
    absl::MutexLock lock(&mutex_);
    services_ = services != nullptr ? *services : std::vector<std::string>();
  }

  grpc::Status ServerReflectionInfo(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::ServerReflectionResponse, v1::ServerReflectionRequest>* stream)
      override {
    v1::ServerReflectionRequest request;
    while (stream->Read(&request)) {
      v1::ServerReflectionResponse response;
      response.set_valid_host(request.host());
      *response.mutable_original_request() = request;
      Answer(request, &response);
      if (!stream->Write(response)) break;
    }
    return grpc::Status::OK;
  }

 private:
  void Answer(const v1::ServerReflectionRequest& request,
              v1::ServerReflectionResponse* response) const {
    const DescriptorPool* pool = DescriptorPool::generated_pool();
    switch (request.message_request_case()) {
      case v1::ServerReflectionRequest::kListServices: {
        absl::MutexLock lock(&mutex_);
        for (const std::string& name : services_) {
          response->mutable_list_services_response()->add_service()->set_name(name);
        }
        return;
      }
      case v1::ServerReflectionRequest::kFileByFilename:
        return AddFile(pool->FindFileByName(request.file_by_filename()),
                       "file " + request.file_by_filename(), response);
      case v1::ServerReflectionRequest::kFileContainingSymbol:
        return AddFile(pool->FindFileContainingSymbol(request.file_containing_symbol()),
                       "symbol " + request.file_containing_symbol(), response);
      case v1::ServerReflectionRequest::kFileContainingExtension: {
        const auto& extension = request.file_containing_extension();
        const auto* type = pool->FindMessageTypeByName(extension.containing_type());
        const auto* field =
            type == nullptr ? nullptr
                            : pool->FindExtensionByNumber(type, extension.extension_number());
        return AddFile(field == nullptr ? nullptr : field->file(),
                       "extension " + std::to_string(extension.extension_number()) + " of " +
                           extension.containing_type(),
                       response);
      }
      case v1::ServerReflectionRequest::kAllExtensionNumbersOfType: {
        const std::string& name = request.all_extension_numbers_of_type();
        const auto* type = pool->FindMessageTypeByName(name);
        if (type == nullptr) return NotFound("type " + name, response);
        std::vector<const google::protobuf::FieldDescriptor*> extensions;
        pool->FindAllExtensions(type, &extensions);
        auto* numbers = response->mutable_all_extension_numbers_response();
        numbers->set_base_type_name(name);
        for (const auto* field : extensions) numbers->add_extension_number(field->number());
        return;
      }
      default:
        response->mutable_error_response()->set_error_code(grpc::StatusCode::UNIMPLEMENTED);
        response->mutable_error_response()->set_error_message("unknown request");
    }
  }

  static void NotFound(const std::string& what, v1::ServerReflectionResponse* response) {
    response->mutable_error_response()->set_error_code(grpc::StatusCode::NOT_FOUND);
    response->mutable_error_response()->set_error_message(what + " not found");
  }

  // `file` and the files it imports, transitively, each once.
  static void AddFile(const FileDescriptor* file, const std::string& what,
                      v1::ServerReflectionResponse* response) {
    if (file == nullptr) return NotFound(what, response);
    std::set<std::string> added;
    std::vector<const FileDescriptor*> pending = {file};
    auto* files = response->mutable_file_descriptor_response();
    while (!pending.empty()) {
      const FileDescriptor* next = pending.back();
      pending.pop_back();
      if (!added.insert(next->name()).second) continue;
      google::protobuf::FileDescriptorProto proto;
      next->CopyTo(&proto);
      files->add_file_descriptor_proto(proto.SerializeAsString());
      for (int i = 0; i < next->dependency_count(); ++i) pending.push_back(next->dependency(i));
    }
  }

  mutable absl::Mutex mutex_;
  std::vector<std::string> services_ ABSL_GUARDED_BY(mutex_);
};

// Registers the service on the server being built and, once every service
// is registered, hands it their names.
class ReflectionV1Plugin final : public grpc::ServerBuilderPlugin {
 public:
  std::string name() override { return "affinity_reflection_v1"; }
  void InitServer(grpc::ServerInitializer* initializer) override {
    initializer->RegisterService(service_);
  }
  void Finish(grpc::ServerInitializer* initializer) override {
    service_->SetServiceList(initializer->GetServiceList());
  }
  void ChangeArguments(const std::string&, void*) override {}
  bool has_sync_methods() const override { return true; }

 private:
  std::shared_ptr<ReflectionV1Service> service_ = std::make_shared<ReflectionV1Service>();
};

class ReflectionV1BuilderOption final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->push_back(std::make_unique<ReflectionV1Plugin>());
  }
};

}  // namespace

std::unique_ptr<grpc::ServerBuilderOption> ReflectionV1Option() {
  return std::make_unique<ReflectionV1BuilderOption>();
}

}  // namespace affinity::server
