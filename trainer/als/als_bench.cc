// Trains ALS on an interaction file and prints seconds per iteration for
// each requested solver, side by side on the same data and machine state.
//
//   bazel run //trainer/als:als_bench -- --input=/tmp/S.csv
//       --solvers=cg,cholesky --iterations=5 --threads=2
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "trainer/als/als_trainer.h"
#include "trainer/als/options.h"
#include "trainer/data/holdout.h"
#include "trainer/data/interactions_reader.h"

ABSL_FLAG(std::string, input, "", "interaction file: user,item[,weight]");
ABSL_FLAG(std::string, solvers, "cg,cholesky",
          "comma-separated solvers to time: cg, cholesky, explicit");
ABSL_FLAG(int, iterations, 5, "iterations per solver");
ABSL_FLAG(int, factors, 64, "latent factors");
ABSL_FLAG(double, regularization, 0.01, "L2 regularization");
ABSL_FLAG(double, alpha, 1.0, "confidence scale: c = 1 + alpha * w");
ABSL_FLAG(int, cg_steps, 3, "CG steps per row");
ABSL_FLAG(int, threads, 2, "worker threads");
ABSL_FLAG(uint64_t, seed, 1, "initialization seed");
ABSL_FLAG(double, test_fraction, 0.0,
          "share of each user's entries held out (random split, seed 1) "
          "before training; 0 trains on everything");

namespace affinity {
namespace {

// User + system CPU seconds of this process so far. Unlike wall time it
// does not grow while other processes hold the cores.
double CpuSeconds() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + 1e-6 * t.tv_usec; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int Run() {
  const std::string input = absl::GetFlag(FLAGS_input);
  if (input.empty()) {
    std::fprintf(stderr, "--input is required\n");
    return 2;
  }
  const absl::Time load_start = absl::Now();
  absl::StatusOr<Interactions> data = ReadInteractions(input);
  if (!data.ok()) {
    std::fprintf(stderr, "%s\n", data.status().ToString().c_str());
    return 1;
  }
  std::printf("loaded %s: %lld users x %lld items, %lld nnz in %.2f s\n",
              input.c_str(), static_cast<long long>(data->matrix.rows()),
              static_cast<long long>(data->matrix.cols()),
              static_cast<long long>(data->matrix.nnz()),
              absl::ToDoubleSeconds(absl::Now() - load_start));
  CsrMatrix train;
  const double test_fraction = absl::GetFlag(FLAGS_test_fraction);
  if (test_fraction > 0) {
    HoldoutOptions holdout;
    holdout.test_fraction = test_fraction;
    absl::StatusOr<HoldoutSplit> split =
        SplitHoldout(data->matrix, {}, holdout);
    if (!split.ok()) {
      std::fprintf(stderr, "%s\n", split.status().ToString().c_str());
      return 2;
    }
    train = std::move(split->train);
  } else {
    train = std::move(data->matrix);
  }
  const CsrMatrix& m = train;
  std::printf("training on %lld nnz\n", static_cast<long long>(m.nnz()));

  std::printf("%-9s %6s %6s %5s %10s %10s %10s %12s\n", "solver", "factors",
              "threads", "iter", "seconds", "cpu_sec", "loss_sec", "loss");
  struct Summary {
    std::string solver;
    double seconds;
    double cpu_seconds;
  };
  std::vector<Summary> medians;
  for (absl::string_view name :
       absl::StrSplit(absl::GetFlag(FLAGS_solvers), ',', absl::SkipEmpty())) {
    absl::StatusOr<AlsSolver> solver = ParseAlsSolver(name);
    if (!solver.ok()) {
      std::fprintf(stderr, "%s\n", solver.status().ToString().c_str());
      return 2;
    }
    AlsOptions options;
    options.solver = *solver;
    options.iterations = absl::GetFlag(FLAGS_iterations);
    options.factors = absl::GetFlag(FLAGS_factors);
    options.regularization =
        static_cast<float>(absl::GetFlag(FLAGS_regularization));
    options.alpha = static_cast<float>(absl::GetFlag(FLAGS_alpha));
    options.cg_steps = absl::GetFlag(FLAGS_cg_steps);
    options.threads = absl::GetFlag(FLAGS_threads);
    options.seed = absl::GetFlag(FLAGS_seed);
    absl::StatusOr<std::unique_ptr<AlsTrainer>> trainer =
        CreateAlsTrainer(options);
    if (!trainer.ok()) {
      std::fprintf(stderr, "%s\n", trainer.status().ToString().c_str());
      return 2;
    }
    if (absl::Status s = (*trainer)->Init(m); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
    std::vector<double> seconds, cpu_seconds;
    for (int it = 0; it < options.iterations; ++it) {
      const double cpu_start = CpuSeconds();
      absl::StatusOr<IterationStats> stats = (*trainer)->RunIteration();
      // Includes the loss evaluation, which is timed apart in loss_sec.
      const double cpu = CpuSeconds() - cpu_start;
      if (!stats.ok()) {
        std::fprintf(stderr, "%s\n", stats.status().ToString().c_str());
        return 1;
      }
      seconds.push_back(stats->seconds);
      cpu_seconds.push_back(cpu);
      std::printf("%-9s %6d %6d %5d %10.3f %10.3f %10.3f %12.6g\n",
                  std::string(name).c_str(), options.factors, options.threads,
                  stats->iteration, stats->seconds, cpu, stats->loss_seconds,
                  stats->loss);
      std::fflush(stdout);
    }
    medians.push_back(
        {std::string(name), Median(seconds), Median(cpu_seconds)});
  }
  for (const Summary& s : medians) {
    std::printf("median %-9s %.3f s/iter (wall)  %.3f cpu-s/iter\n",
                s.solver.c_str(), s.seconds, s.cpu_seconds);
  }
  return 0;
}

}  // namespace
}  // namespace affinity

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return affinity::Run();
}
