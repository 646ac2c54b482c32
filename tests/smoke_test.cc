#include <gtest/gtest.h>
#include <Eigen/Dense>
#include <rocksdb/db.h>
#include "absl/strings/str_cat.h"
#include "affinity/v1/model.pb.h"
TEST(Smoke, Links) {
  affinity::v1::ModelMetadata m; m.set_version(3);
  Eigen::MatrixXf a = Eigen::MatrixXf::Identity(2,2);
  EXPECT_EQ(absl::StrCat(m.version()), "3");
  EXPECT_EQ(a.sum(), 2.0f);
}
