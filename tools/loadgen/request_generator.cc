#include "tools/loadgen/request_generator.h"

#include <algorithm>
#include <fstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace affinity::loadgen {

absl::StatusOr<std::vector<std::string>> ReadIdFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open id file ", path));
  std::vector<std::string> ids;
  std::string line;
  while (std::getline(in, line)) {
    const absl::string_view id = absl::StripAsciiWhitespace(line);
    if (id.empty() || absl::StartsWith(id, "#")) continue;
    ids.emplace_back(id);
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat("reading ", path, " failed"));
  if (ids.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("id file ", path, " holds no ids (one id per line expected)"));
  }
  return ids;
}

std::vector<std::string> NumberedIds(const std::string& prefix, int64_t n) {
  std::vector<std::string> ids;
  ids.reserve(n > 0 ? n : 0);
  for (int64_t i = 1; i <= n; ++i) ids.push_back(absl::StrCat(prefix, i));
  return ids;
}

absl::StatusOr<RequestGenerator> RequestGenerator::Create(RequestMix mix) {
  if (mix.k <= 0) return absl::InvalidArgumentError("--k must be >= 1");
  if (mix.recent_per_request < 0) {
    return absl::InvalidArgumentError("--recent_per_request must be >= 0");
  }
  if (mix.method == Method::kRecommend) {
    if (mix.users.empty()) {
      return absl::InvalidArgumentError(
          "no user ids: give --users_file or --num_users >= 1");
    }
    if (static_cast<size_t>(mix.recent_per_request) > mix.items.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--recent_per_request=", mix.recent_per_request, " needs at least as "
          "many item ids (--items_file or --items), have ", mix.items.size()));
    }
  } else if (mix.items.empty()) {
    return absl::InvalidArgumentError(
        "--method=similar needs item ids: give --items_file or --items");
  }
  return RequestGenerator(std::move(mix));
}

RequestGenerator::RequestGenerator(RequestMix mix)
    : mix_(std::move(mix)), rng_(mix_.seed) {}

size_t RequestGenerator::Pick(size_t n) {
  return std::uniform_int_distribution<size_t>(0, n - 1)(rng_);
}

affinity::v1::RecommendRequest RequestGenerator::NextRecommend() {
  affinity::v1::RecommendRequest request;
  request.set_user_id(mix_.users[Pick(mix_.users.size())]);
  request.set_k(mix_.k);
  request.set_rule_set(mix_.rule_set);
  chosen_.clear();
  while (chosen_.size() < static_cast<size_t>(mix_.recent_per_request)) {
    const size_t item = Pick(mix_.items.size());
    if (std::find(chosen_.begin(), chosen_.end(), item) != chosen_.end()) continue;
    chosen_.push_back(item);
    affinity::v1::Interaction* interaction = request.add_recent();
    interaction->set_item_id(mix_.items[item]);
    interaction->set_weight(mix_.recent_weight);
  }
  return request;
}

affinity::v1::SimilarItemsRequest RequestGenerator::NextSimilar() {
  affinity::v1::SimilarItemsRequest request;
  request.set_item_id(mix_.items[Pick(mix_.items.size())]);
  request.set_k(mix_.k);
  request.set_rule_set(mix_.rule_set);
  return request;
}

}  // namespace affinity::loadgen
