// affinity-server's gRPC ports over TLS (--tls_cert, --tls_key, optional
// --tls_client_ca), with certificates the test makes: a TLS client is
// answered on both ports, a plaintext client is not; with client
// verification, a client without a certificate (or with one of another CA)
// is refused. Bad TLS flags exit 2. --reflection=false turns reflection off.
#include <signal.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "affinity/v1/admin.grpc.pb.h"
#include "affinity/v1/recommender.grpc.pb.h"
#include "gtest/gtest.h"
#include "storage/model_store.h"
#include "tests/server/server_process.h"
#include "tests/server/test_certs.h"
#include "tests/server/test_model.h"

namespace affinity::server {
namespace {

using testing::kServerBinary;

class TlsBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TestCaseDir();
    db_ = dir_ + "/db";
    auto store = storage::ModelStore::Open(db_, storage::ModelStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(testing::Publish(store->get(), testing::MakeImplicitModel(3, 20, 100, 8, 10)).ok());
    ASSERT_TRUE(testing::MakeTestCerts(dir_, &certs_));
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      EXPECT_EQ(testing::WaitExit(pid_), 0) << testing::ReadFile(dir_ + "/server.log");
    }
  }

  std::vector<std::string> Args(std::vector<std::string> extra) const {
    std::vector<std::string> args = {kServerBinary, "--db=" + db_, "--listen=127.0.0.1:0",
                                     "--metrics_listen=", "--admin_listen=127.0.0.1:0",
                                     "--poll_ms=100"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  // Starts the server; sets port_ and admin_port_.
  void Start(std::vector<std::string> extra) {
    const std::string log = dir_ + "/server.log";
    pid_ = testing::Spawn(Args(std::move(extra)), log);
    const std::string text = testing::WaitForLog(log, "routing (rollout revision");
    port_ = testing::LoggedPort(text, "started: grpc").value_or(0);
    admin_port_ = testing::LoggedPort(text, "admin services on").value_or(0);
    ASSERT_GT(port_, 0) << text;
    ASSERT_GT(admin_port_, 0) << text;
  }

  int RunToExit(std::vector<std::string> extra, std::string* log_text) {
    const std::string log = dir_ + "/exit.log";
    const pid_t pid = testing::Spawn(Args(std::move(extra)), log);
    std::optional<int> code = testing::WaitExitFor(pid, 10000);
    if (!code.has_value()) {
      kill(pid, SIGTERM);
      code = testing::WaitExit(pid);
    }
    *log_text = testing::ReadFile(log);
    return *code;
  }

  std::shared_ptr<grpc::ChannelCredentials> Tls(const testing::PemFiles* client) const {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = testing::ReadFile(certs_.ca);
    if (client != nullptr) {
      options.pem_cert_chain = testing::ReadFile(client->cert);
      options.pem_private_key = testing::ReadFile(client->key);
    }
    return grpc::SslCredentials(options);
  }

  grpc::Status Recommend(const std::shared_ptr<grpc::ChannelCredentials>& credentials) const {
    auto stub = affinity::v1::Recommender::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), credentials));
    affinity::v1::RecommendRequest request;
    request.set_user_id(testing::TestModel::UserId(0));
    request.set_k(5);
    affinity::v1::RecommendResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    const grpc::Status status = stub->Recommend(&context, request, &response);
    if (status.ok() && response.items_size() != 5) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "expected 5 items");
    }
    return status;
  }

  grpc::Status GetRollout(const std::shared_ptr<grpc::ChannelCredentials>& credentials) const {
    auto stub = affinity::v1::RolloutAdmin::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(admin_port_), credentials));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    affinity::v1::RolloutStatus response;
    return stub->GetRollout(&context, affinity::v1::GetRolloutRequest(), &response);
  }

  std::string dir_, db_;
  testing::TestCerts certs_;
  pid_t pid_ = -1;
  int port_ = 0;
  int admin_port_ = 0;
};

TEST_F(TlsBinaryTest, TlsClientsAreAnsweredPlaintextClientsAreNot) {
  Start({"--tls_cert=" + certs_.server.cert, "--tls_key=" + certs_.server.key});
  const grpc::Status tls = Recommend(Tls(nullptr));
  EXPECT_TRUE(tls.ok()) << tls.error_message();
  const grpc::Status admin = GetRollout(Tls(nullptr));
  EXPECT_TRUE(admin.ok()) << admin.error_message();
  EXPECT_FALSE(Recommend(grpc::InsecureChannelCredentials()).ok());
  EXPECT_FALSE(GetRollout(grpc::InsecureChannelCredentials()).ok());
}

TEST_F(TlsBinaryTest, ClientCertificatesAreRequiredWithTlsClientCa) {
  Start({"--tls_cert=" + certs_.server.cert, "--tls_key=" + certs_.server.key,
         "--tls_client_ca=" + certs_.ca});
  const grpc::Status with_cert = Recommend(Tls(&certs_.client));
  EXPECT_TRUE(with_cert.ok()) << with_cert.error_message();
  const grpc::Status admin = GetRollout(Tls(&certs_.client));
  EXPECT_TRUE(admin.ok()) << admin.error_message();
  EXPECT_FALSE(Recommend(Tls(nullptr)).ok());
  EXPECT_FALSE(Recommend(Tls(&certs_.stranger)).ok());
  EXPECT_FALSE(GetRollout(Tls(nullptr)).ok());
  EXPECT_FALSE(Recommend(grpc::InsecureChannelCredentials()).ok());
}

TEST_F(TlsBinaryTest, BadTlsFlagsExit2) {
  std::string text;
  EXPECT_EQ(RunToExit({"--tls_cert=" + certs_.server.cert}, &text), 2) << text;
  EXPECT_NE(text.find("--tls_cert and --tls_key: give both or neither"), std::string::npos)
      << text;
  EXPECT_EQ(RunToExit({"--tls_cert=" + certs_.server.cert, "--tls_key=" + certs_.client.key},
                      &text),
            2)
      << text;
  EXPECT_NE(text.find("not the private key of --tls_cert"), std::string::npos) << text;
  EXPECT_EQ(RunToExit({"--tls_cert=" + certs_.server.key, "--tls_key=" + certs_.server.key},
                      &text),
            2)
      << text;
  EXPECT_NE(text.find("--tls_cert " + certs_.server.key + ": expected a PEM certificate"),
            std::string::npos)
      << text;
  EXPECT_EQ(RunToExit({"--tls_client_ca=" + certs_.ca}, &text), 2) << text;
  EXPECT_NE(text.find("--tls_client_ca: needs --tls_cert"), std::string::npos) << text;
}

// The service names grpc.reflection.VERSION.ServerReflection lists (the
// raw response bytes hold them; v1 and v1alpha share the messages); empty
// when the call fails.
std::string ReflectionListServices(int port, const std::string& version = "v1alpha") {
  grpc::GenericStub stub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                             grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection." + version + ".ServerReflection/ServerReflectionInfo", &cq);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](intptr_t want) {
    return cq.Next(&tag, &ok) && ok && reinterpret_cast<intptr_t>(tag) == want;
  };
  std::string out;
  call->StartCall(reinterpret_cast<void*>(1));
  if (step(1)) {
    const std::string bytes("\x3a\x00", 2);  // list_services: ""
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    call->Write(request, reinterpret_cast<void*>(2));
    grpc::ByteBuffer response;
    if (step(2)) {
      call->WritesDone(reinterpret_cast<void*>(3));
      if (step(3)) {
        call->Read(&response, reinterpret_cast<void*>(4));
        std::vector<grpc::Slice> slices;
        if (step(4) && response.Dump(&slices).ok()) {
          for (const grpc::Slice& s : slices) {
            out.append(reinterpret_cast<const char*>(s.begin()), s.size());
          }
        }
      }
    }
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  cq.Next(&tag, &ok);
  return out;
}

TEST_F(TlsBinaryTest, ReflectionIsOnByDefault) {
  Start({});
  for (const char* version : {"v1alpha", "v1"}) {
    EXPECT_NE(ReflectionListServices(port_, version).find("affinity.v1.Recommender"),
              std::string::npos)
        << version;
    EXPECT_NE(ReflectionListServices(admin_port_, version).find("affinity.v1.CatalogAdmin"),
              std::string::npos)
        << version;
  }
}

TEST_F(TlsBinaryTest, ReflectionFalseTurnsItOff) {
  Start({"--reflection=false"});
  for (const char* version : {"v1alpha", "v1"}) {
    EXPECT_EQ(ReflectionListServices(port_, version), "") << version;
    EXPECT_EQ(ReflectionListServices(admin_port_, version), "") << version;
  }
  const grpc::Status plain = Recommend(grpc::InsecureChannelCredentials());
  EXPECT_TRUE(plain.ok()) << plain.error_message();
}

}  // namespace
}  // namespace affinity::server
