// Reads a rules file: protobuf text format (any name not ending in .json)
// or JSON (.json), parsed by protobuf itself, then compiled (see
// compiled_rules.h). Every error is InvalidArgument and starts with
// "FILE:LINE:COL: " when the position is known (syntax errors; semantic
// errors in text files point at the offending field), "FILE: " otherwise.
#ifndef AFFINITY_SERVER_RULES_RULE_CONFIG_LOADER_H_
#define AFFINITY_SERVER_RULES_RULE_CONFIG_LOADER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "affinity/v1/rules.pb.h"
#include "server/rules/compiled_rules.h"

namespace affinity::server::rules {

// A rules file as parsed: its config, compiled, and where its fields are,
// for messages about them beyond the compiler's (e.g. checks against a
// catalog). Movable; immutable.
class RulesFile {
 public:
  RulesFile(RulesFile&&) noexcept;
  RulesFile& operator=(RulesFile&&) noexcept;
  ~RulesFile();

  const std::string& path() const { return path_; }
  const affinity::v1::RuleConfig& config() const { return config_; }
  const std::shared_ptr<const CompiledRules>& rules() const { return rules_; }
  // "FILE:LINE:COL: " of the field at `field` (or of its nearest enclosing
  // field the parse located); "FILE: " when unknown (JSON files, an empty
  // path).
  std::string Where(const FieldPath& field) const;

 private:
  friend absl::StatusOr<RulesFile> ParseRulesFile(const std::string&, absl::string_view, int);
  RulesFile();

  std::string path_;
  affinity::v1::RuleConfig config_;
  std::shared_ptr<const CompiledRules> rules_;
  struct Locations;
  std::unique_ptr<Locations> locations_;  // null for JSON files
};

// ParseRules, keeping the config and the fields' positions.
absl::StatusOr<RulesFile> ParseRulesFile(const std::string& path, absl::string_view contents,
                                         int max_slot = 1000);

// LoadRulesFile, keeping the config and the fields' positions.
absl::StatusOr<RulesFile> ReadRulesFile(const std::string& path, int max_slot = 1000);

// `path` names the source in messages and picks the syntax.
absl::StatusOr<std::shared_ptr<const CompiledRules>> ParseRules(const std::string& path,
                                                                absl::string_view contents,
                                                                int max_slot = 1000);

// NotFound when the file cannot be read; otherwise ParseRules, and
// InvalidArgument "FILE: no rule set and no blocklist entry ..." when the
// file holds neither (empty, only whitespace or comments, "{}"): a file
// caught while it is rewritten in place reads like that. A file cut at a
// message boundary still parses and cannot be told from a shorter file;
// replace rules files by renaming a complete file over them.
absl::StatusOr<std::shared_ptr<const CompiledRules>> LoadRulesFile(const std::string& path,
                                                                   int max_slot = 1000);

}  // namespace affinity::server::rules

#endif  // AFFINITY_SERVER_RULES_RULE_CONFIG_LOADER_H_
