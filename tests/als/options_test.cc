#include "trainer/als/options.h"

#include <cmath>
#include <functional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "trainer/als/als_trainer.h"

namespace affinity {
namespace {

using ::testing::HasSubstr;

TEST(AlsOptionsTest, DefaultsAreValid) {
  const AlsOptions options;
  EXPECT_TRUE(ValidateOptions(options).ok());
  EXPECT_EQ(options.factors, 64);
  EXPECT_EQ(options.iterations, 15);
  EXPECT_FLOAT_EQ(options.regularization, 0.01f);
  EXPECT_FLOAT_EQ(options.alpha, 1.0f);
  EXPECT_EQ(options.solver, AlsSolver::kConjugateGradient);
  EXPECT_EQ(options.cg_steps, 3);
}

struct BadCase {
  std::string field;
  std::function<void(AlsOptions*)> mutate;
};

TEST(AlsOptionsTest, EachBadFieldIsNamed) {
  const BadCase cases[] = {
      {"factors", [](AlsOptions* o) { o->factors = 0; }},
      {"factors", [](AlsOptions* o) { o->factors = 1 << 20; }},
      {"iterations", [](AlsOptions* o) { o->iterations = 0; }},
      {"regularization", [](AlsOptions* o) { o->regularization = -0.1f; }},
      {"regularization", [](AlsOptions* o) { o->regularization = NAN; }},
      {"regularization",
       [](AlsOptions* o) {
         o->solver = AlsSolver::kExplicit;
         o->regularization = 0;
       }},
      {"regularization",
       [](AlsOptions* o) {
         o->solver = AlsSolver::kCholesky;
         o->regularization = 0;
       }},
      {"alpha", [](AlsOptions* o) { o->alpha = -1; }},
      {"alpha", [](AlsOptions* o) { o->alpha = INFINITY; }},
      {"solver", [](AlsOptions* o) { o->solver = static_cast<AlsSolver>(7); }},
      {"cg_steps", [](AlsOptions* o) { o->cg_steps = 0; }},
      {"threads", [](AlsOptions* o) { o->threads = 0; }},
      {"init_scale", [](AlsOptions* o) { o->init_scale = 0; }},
  };
  for (const BadCase& c : cases) {
    AlsOptions options;
    c.mutate(&options);
    const absl::Status status = ValidateOptions(options);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(std::string(status.message()),
                HasSubstr("AlsOptions." + c.field));
    // The factory refuses the same options.
    EXPECT_EQ(CreateAlsTrainer(options).status().code(),
              absl::StatusCode::kInvalidArgument)
        << c.field;
  }
}

TEST(AlsOptionsTest, OnlyCgAcceptsZeroRegularization) {
  AlsOptions options;
  options.regularization = 0;
  EXPECT_TRUE(ValidateOptions(options).ok());
  options.solver = AlsSolver::kCholesky;
  EXPECT_EQ(ValidateOptions(options).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AlsOptionsTest, SolverNamesRoundTrip) {
  for (AlsSolver s : {AlsSolver::kConjugateGradient, AlsSolver::kCholesky,
                      AlsSolver::kExplicit}) {
    absl::StatusOr<AlsSolver> parsed = ParseAlsSolver(AlsSolverName(s));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, s);
  }
  const absl::StatusOr<AlsSolver> bad = ParseAlsSolver("sgd");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("sgd"));
}

}  // namespace
}  // namespace affinity
