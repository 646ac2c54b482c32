#include "tools/loadgen/loopback_target.h"

#include "gtest/gtest.h"

namespace affinity::loadgen {
namespace {

class AcceptedTarget : public ::testing::TestWithParam<const char*> {};
TEST_P(AcceptedTarget, Accepted) {
  EXPECT_TRUE(CheckLoopbackTarget(GetParam()).ok()) << GetParam();
}
INSTANTIATE_TEST_SUITE_P(Loopback, AcceptedTarget,
                         ::testing::Values("127.0.0.1:50051", "127.8.9.10:1",
                                           "localhost:65535", "[::1]:50051",
                                           "ipv4:127.0.0.1:80",
                                           "ipv6:[::1]:80",
                                           "dns:///localhost:50051"));

class RefusedTarget : public ::testing::TestWithParam<const char*> {};
TEST_P(RefusedTarget, Refused) {
  const absl::Status status = CheckLoopbackTarget(GetParam());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << GetParam();
  EXPECT_NE(status.message().find(GetParam()), absl::string_view::npos)
      << status.message();
}
INSTANTIATE_TEST_SUITE_P(
    NotLoopback, RefusedTarget,
    ::testing::Values("10.0.0.1:50051", "192.168.1.2:50051", "8.8.8.8:53",
                      "128.0.0.1:50051", "example.com:443", "localhost.evil:1",
                      "[::2]:50051", "[::ffff:10.0.0.1]:1", "127.0.0.1",
                      "127.0.0.1:0", "127.0.0.1:70000", "127.0.0.1:port",
                      "127.1:50051", "ipv4:127.0.0.1:1,10.0.0.1:1",
                      "unix:/tmp/sock", "[::1]", "0.0.0.0:50051"));

}  // namespace
}  // namespace affinity::loadgen
