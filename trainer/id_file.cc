#include "trainer/id_file.h"

#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace affinity {

absl::StatusOr<std::vector<std::string>> ReadIdFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::vector<std::string> ids;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) ids.push_back(std::move(line));
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read failed"));
  if (ids.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no ids, expected one id per line"));
  }
  return ids;
}

}  // namespace affinity
