// Reads the Prometheus text exposition format (version 0.0.4), as served on
// /metrics, into metric families (from `# TYPE` lines) and samples.
// InvalidArgument names the line ("line 12: ..., expected ...") for a
// malformed sample, label or value. Pure, thread-safe.
#ifndef AFFINITY_TESTS_SERVER_EXPOSITION_H_
#define AFFINITY_TESTS_SERVER_EXPOSITION_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace affinity::server::testing {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Exposition {
  std::map<std::string, std::string> family_types;  // name -> counter, gauge, histogram, ...
  std::vector<Sample> samples;

  // The sample names a family's series appear under: a histogram's
  // name_bucket, name_sum and name_count; otherwise the name itself.
  std::vector<std::string> SampleNames(const std::string& family) const;
};

absl::StatusOr<Exposition> ParseExposition(absl::string_view text);

}  // namespace affinity::server::testing

#endif  // AFFINITY_TESTS_SERVER_EXPOSITION_H_
