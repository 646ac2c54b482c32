// What the trainer checks before its work so that publishing cannot fail
// at the end: the model's size against the store's index limit.
#include "trainer/model_publisher.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/model_store.h"

namespace affinity {
namespace {

using ::testing::HasSubstr;

TEST(CheckModelSizeTest, AllowsUpToTwoToTheThirtyOneUsersAndItems) {
  constexpr int64_t kLimit = int64_t{1} << 31;
  ASSERT_EQ(storage::kMaxIdsPerVersion, kLimit);
  EXPECT_TRUE(CheckModelSize(1, 1).ok());
  EXPECT_TRUE(CheckModelSize(kLimit, kLimit).ok());

  absl::Status users = CheckModelSize(kLimit + 1, 10);
  EXPECT_TRUE(absl::IsInvalidArgument(users)) << users;
  EXPECT_EQ(users.message(),
            "2147483649 distinct user ids, expected at most 2147483648 (2^31) per model version");
  absl::Status items = CheckModelSize(10, int64_t{3} << 31);
  EXPECT_THAT(items.message(), HasSubstr("6442450944 distinct item ids, expected at most "
                                         "2147483648 (2^31)"));
}

}  // namespace
}  // namespace affinity
