#include "server/rules/rule_config_loader.h"

#include <fstream>
#include <sstream>

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "affinity/v1/rules.pb.h"

namespace affinity::server::rules {
namespace {

class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!has_error_) {
      has_error_ = true;
      line_ = line;
      column_ = column;
      message_ = message;
    }
  }
  bool has_error_ = false;
  int line_ = 0;
  int column_ = 0;
  std::string message_;
};

// 1-based line:col of the field at `path`, when the parse recorded it.
std::string Locate(const google::protobuf::TextFormat::ParseInfoTree& root,
                   const google::protobuf::Descriptor* descriptor, const FieldPath& path) {
  const google::protobuf::TextFormat::ParseInfoTree* tree = &root;
  google::protobuf::TextFormat::ParseLocation location;
  bool found = false;
  for (size_t i = 0; i < path.size() && tree != nullptr && descriptor != nullptr; ++i) {
    const google::protobuf::FieldDescriptor* field = descriptor->FindFieldByName(path[i].first);
    if (field == nullptr) break;
    const int index = field->is_repeated() ? std::max(path[i].second, 0) : -1;
    google::protobuf::TextFormat::ParseLocation here = tree->GetLocation(field, index);
    // Values of a list (`any_of: ["a", "b"]`) after the first have no
    // location of their own: point at the field.
    if (here.line < 0 && index > 0) here = tree->GetLocation(field, 0);
    if (here.line >= 0) {
      location = here;
      found = true;
    }
    if (field->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE) break;
    tree = tree->GetTreeForNested(field, index);
    descriptor = field->message_type();
  }
  if (!found) return "";
  return absl::StrCat(location.line + 1, ":", location.column + 1, ": ");
}

}  // namespace

struct RulesFile::Locations {
  google::protobuf::TextFormat::ParseInfoTree tree;
};

RulesFile::RulesFile() = default;
RulesFile::RulesFile(RulesFile&&) noexcept = default;
RulesFile& RulesFile::operator=(RulesFile&&) noexcept = default;
RulesFile::~RulesFile() = default;

std::string RulesFile::Where(const FieldPath& field) const {
  const std::string where =
      locations_ == nullptr
          ? ""
          : Locate(locations_->tree, affinity::v1::RuleConfig::descriptor(), field);
  return absl::StrCat(path_, ":", where.empty() ? " " : where);
}

absl::StatusOr<RulesFile> ParseRulesFile(const std::string& path, absl::string_view contents,
                                         int max_slot) {
  RulesFile file;
  file.path_ = path;
  affinity::v1::RuleConfig& config = file.config_;
  const bool json = absl::EndsWith(path, ".json");
  if (json) {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    absl::Status parsed = [&]() -> absl::Status {
      auto status = google::protobuf::util::JsonStringToMessage(std::string(contents), &config,
                                                                options);
      if (status.ok()) return absl::OkStatus();
      return absl::InvalidArgumentError(std::string(status.message()));
    }();
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", parsed.message()));
    }
  } else {
    file.locations_ = std::make_unique<RulesFile::Locations>();
    FirstError errors;
    google::protobuf::TextFormat::Parser parser;
    parser.RecordErrorsTo(&errors);
    parser.WriteLocationsTo(&file.locations_->tree);
    if (!parser.ParseFromString(std::string(contents), &config)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", errors.line_ + 1, ":",
                                                     errors.column_ + 1, ": ",
                                                     errors.message_));
    }
  }
  FieldPath error_path;
  absl::StatusOr<std::shared_ptr<const CompiledRules>> rules =
      CompileRules(config, max_slot, &error_path);
  if (!rules.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.Where(error_path), rules.status().message()));
  }
  file.rules_ = *std::move(rules);
  return file;
}

absl::StatusOr<std::shared_ptr<const CompiledRules>> ParseRules(const std::string& path,
                                                                absl::string_view contents,
                                                                int max_slot) {
  absl::StatusOr<RulesFile> file = ParseRulesFile(path, contents, max_slot);
  if (!file.ok()) return file.status();
  return file->rules();
}

absl::StatusOr<RulesFile> ReadRulesFile(const std::string& path, int max_slot) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read the rules file"));
  std::stringstream contents;
  contents << in.rdbuf();
  const std::string text = contents.str();
  absl::StatusOr<RulesFile> file = ParseRulesFile(path, text, max_slot);
  if (!file.ok()) return file;
  // A file without any rule is what a reader sees while the file is being
  // rewritten in place (truncated, not yet written); serving it would drop
  // every rule set and the blocklist.
  if (file->rules()->Names().empty() && file->rules()->blocklist().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": no rule set and no blocklist entry (", text.size(),
        " bytes: an empty file, or one being rewritten), expected at least one; to serve "
        "without rules, leave --rules empty"));
  }
  return file;
}

absl::StatusOr<std::shared_ptr<const CompiledRules>> LoadRulesFile(const std::string& path,
                                                                   int max_slot) {
  absl::StatusOr<RulesFile> file = ReadRulesFile(path, max_slot);
  if (!file.ok()) return file.status();
  return file->rules();
}

}  // namespace affinity::server::rules
