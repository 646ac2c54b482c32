// Fold-in against a direct dense solve of the implicit-ALS normal equations.
#include <cmath>
#include <random>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include "gtest/gtest.h"
#include "server/scoring/fold_in.h"
#include "server/scoring/item_matrix.h"

namespace affinity::server {
namespace {

// x = (sum_all y y^T + sum_u (c-1) y y^T + lambda I)^-1 sum_u c y, computed
// densely from the full confidence vector.
std::vector<double> DenseSolve(const std::vector<float>& y, int items, int dims,
                               const std::vector<double>& confidence, double lambda) {
  Eigen::MatrixXd Y(items, dims);
  for (int i = 0; i < items; ++i)
    for (int d = 0; d < dims; ++d) Y(i, d) = y[i * dims + d];
  Eigen::VectorXd c = Eigen::Map<const Eigen::VectorXd>(confidence.data(), items);
  Eigen::VectorXd p = (c.array() > 0).cast<double>();
  Eigen::VectorXd cu = p.array() * c.array() + (1 - p.array());  // c for seen, 1 otherwise
  Eigen::MatrixXd a = Y.transpose() * cu.asDiagonal() * Y;
  a.diagonal().array() += lambda;
  Eigen::VectorXd b = Y.transpose() * (cu.array() * p.array()).matrix();
  Eigen::VectorXd x = a.llt().solve(b);
  return std::vector<double>(x.data(), x.data() + dims);
}

class FoldInTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937 rng(11);
    std::normal_distribution<float> normal(0.0f, 0.3f);
    dense_.resize(kItems * kDims);
    for (float& v : dense_) v = normal(rng);
    items_ = ItemMatrix::FromDense(dense_, kItems, kDims);
    gram_ = ItemGram(*items_);
  }
  static constexpr int kItems = 120;
  static constexpr int kDims = 12;
  std::vector<float> dense_;
  std::unique_ptr<ItemMatrix> items_;
  Eigen::MatrixXd gram_;
};

TEST_F(FoldInTest, GramEqualsYTransposeY) {
  for (int a = 0; a < kDims; ++a) {
    for (int b = 0; b < kDims; ++b) {
      double want = 0;
      for (int i = 0; i < kItems; ++i) want += double{dense_[i * kDims + a]} * dense_[i * kDims + b];
      EXPECT_NEAR(gram_(a, b), want, 1e-4);
    }
  }
}

TEST_F(FoldInTest, MatchesDenseSolveForEveryTransform) {
  const std::vector<WeightedItem> interactions = {{3, 1.0f}, {17, 4.0f}, {40, 0.5f}, {99, 2.0f}};
  for (WeightTransform t : {WeightTransform::kRaw, WeightTransform::kLog1p, WeightTransform::kBinary}) {
    FoldInParams params{1.7f, 0.05f, t};
    std::vector<double> confidence(kItems, 0.0);
    for (const WeightedItem& w : interactions) confidence[w.index] = Confidence(params, w.weight);
    const std::vector<double> want = DenseSolve(dense_, kItems, kDims, confidence, 0.05);
    auto got = FoldInUser(*items_, gram_, params, interactions);
    ASSERT_TRUE(got.ok()) << got.status();
    for (int d = 0; d < kDims; ++d) EXPECT_NEAR((*got)[d], want[d], 1e-4) << "dim " << d;
  }
}

TEST_F(FoldInTest, RepeatedItemsAddTheirWeights) {
  FoldInParams params{2.0f, 0.1f, WeightTransform::kLog1p};
  auto split = FoldInUser(*items_, gram_, params, {{5, 1.0f}, {8, 2.0f}, {5, 3.0f}});
  auto merged = FoldInUser(*items_, gram_, params, {{8, 2.0f}, {5, 4.0f}});
  ASSERT_TRUE(split.ok() && merged.ok());
  for (int d = 0; d < kDims; ++d) EXPECT_NEAR((*split)[d], (*merged)[d], 1e-6);
}

TEST_F(FoldInTest, ConfidenceFollowsTheTransform) {
  EXPECT_DOUBLE_EQ(Confidence({2.0f, 0.1f, WeightTransform::kRaw}, 3.0f), 7.0);
  EXPECT_NEAR(Confidence({2.0f, 0.1f, WeightTransform::kLog1p}, 3.0f), 1 + 2 * std::log(4.0), 1e-6);
  EXPECT_DOUBLE_EQ(Confidence({2.0f, 0.1f, WeightTransform::kBinary}, 3.0f), 3.0);
  EXPECT_DOUBLE_EQ(Confidence({2.0f, 0.1f, WeightTransform::kBinary}, 0.0f), 1.0);
}

TEST_F(FoldInTest, OutOfRangeIndexIsAnError) {
  auto x = FoldInUser(*items_, gram_, FoldInParams{}, {{kItems, 1.0f}});
  EXPECT_EQ(x.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(FoldInParamsTest, ReadsMetadataAndRejectsBadValues) {
  affinity::v1::ModelMetadata m;
  m.set_alpha(3.0f);
  m.set_regularization(0.2f);
  m.set_weight_transform("log1p");
  auto p = FoldInParamsFromMetadata(m);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->alpha, 3.0f);
  EXPECT_EQ(p->regularization, 0.2f);
  EXPECT_EQ(p->transform, WeightTransform::kLog1p);
  m.set_weight_transform("sqrt");
  EXPECT_NE(FoldInParamsFromMetadata(m).status().message().find("weight_transform"),
            std::string::npos);
  m.set_weight_transform("");
  m.set_alpha(-1.0f);
  EXPECT_NE(FoldInParamsFromMetadata(m).status().message().find("alpha"), std::string::npos);
}

}  // namespace
}  // namespace affinity::server
