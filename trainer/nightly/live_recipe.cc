#include "trainer/nightly/live_recipe.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace affinity {
namespace {

absl::Status Unreadable(const affinity::v1::ModelMetadata& m, const std::string& name) {
  return absl::FailedPreconditionError(absl::StrCat(
      "version ", m.version(), " records no usable \"", name, "\" parameter, so its recipe ",
      "cannot be retrained"));
}

}  // namespace

absl::StatusOr<AlsOptions> RecipeOf(const affinity::v1::ModelMetadata& m, int threads) {
  const auto& p = m.parameters();
  auto get = [&](const std::string& name) -> const std::string* {
    auto it = p.find(name);
    return it == p.end() ? nullptr : &it->second;
  };
  AlsOptions o;
  o.threads = threads;
  const std::string* solver = get("solver");
  if (solver == nullptr) return Unreadable(m, "solver");
  auto parsed = ParseAlsSolver(*solver);
  if (!parsed.ok()) return Unreadable(m, "solver");
  o.solver = *parsed;
  struct IntParam { const char* name; int* out; };
  for (IntParam ip : {IntParam{"factors", &o.factors}, IntParam{"iterations", &o.iterations},
                      IntParam{"cg_steps", &o.cg_steps}}) {
    const std::string* v = get(ip.name);
    if (v == nullptr || !absl::SimpleAtoi(*v, ip.out)) return Unreadable(m, ip.name);
  }
  for (const char* name : {"regularization", "alpha"}) {
    const std::string* v = get(name);
    float value = 0;
    if (v == nullptr || !absl::SimpleAtof(*v, &value)) return Unreadable(m, name);
    (std::string(name) == "alpha" ? o.alpha : o.regularization) = value;
  }
  const std::string* seed = get("seed");
  if (seed == nullptr || !absl::SimpleAtoi(*seed, &o.seed)) return Unreadable(m, "seed");
  if (absl::Status s = ValidateOptions(o); !s.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("version ", m.version(),
                                                      "'s recipe is not valid: ", s.message()));
  }
  return o;
}

std::string DescribeRecipe(const AlsOptions& o) {
  return absl::StrFormat("%s, %d factors, %d iterations, regularization %g, alpha %g",
                         AlsSolverName(o.solver), o.factors, o.iterations, o.regularization,
                         o.alpha);
}

}  // namespace affinity
