// Produces the requests of a load run from id lists and a seed.
//
// Contract:
//  - ReadIdFile returns the non-empty, whitespace-trimmed lines of a file
//    that do not start with '#'; errors name the file. An empty list is
//    InvalidArgument.
//  - NumberedIds(prefix, n) is prefix+"1" .. prefix+n.
//  - RequestGenerator is deterministic for a given seed. kRecommend requests
//    pick a user uniformly and `recent_per_request` distinct items uniformly
//    from `items`; kSimilar requests pick the queried item from `items`.
//    Create() checks that the lists the method needs are non-empty and that
//    recent_per_request <= items.size().
#ifndef AFFINITY_TOOLS_LOADGEN_REQUEST_GENERATOR_H_
#define AFFINITY_TOOLS_LOADGEN_REQUEST_GENERATOR_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "affinity/v1/recommender.pb.h"

namespace affinity::loadgen {

absl::StatusOr<std::vector<std::string>> ReadIdFile(const std::string& path);
std::vector<std::string> NumberedIds(const std::string& prefix, int64_t n);

enum class Method { kRecommend, kSimilar };

struct RequestMix {
  Method method = Method::kRecommend;
  std::vector<std::string> users;
  std::vector<std::string> items;
  int recent_per_request = 0;
  float recent_weight = 1.0f;
  int k = 10;
  std::string rule_set;
  uint64_t seed = 1;
};

class RequestGenerator {
 public:
  static absl::StatusOr<RequestGenerator> Create(RequestMix mix);

  Method method() const { return mix_.method; }
  affinity::v1::RecommendRequest NextRecommend();
  affinity::v1::SimilarItemsRequest NextSimilar();

 private:
  explicit RequestGenerator(RequestMix mix);
  size_t Pick(size_t n);

  RequestMix mix_;
  std::mt19937_64 rng_;
  std::vector<size_t> chosen_;
};

}  // namespace affinity::loadgen

#endif  // AFFINITY_TOOLS_LOADGEN_REQUEST_GENERATOR_H_
