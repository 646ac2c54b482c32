#include "tools/command_line/parse_flags.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/internal/program_name.h"
#include "absl/flags/internal/usage.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace affinity::command_line {
namespace {

bool IsProgramFlag(const Program& program, const absl::CommandLineFlag& flag) {
  const std::string file = flag.Filename();
  return std::any_of(program.flag_paths.begin(), program.flag_paths.end(),
                     [&](const std::string& path) { return absl::StrContains(file, path); });
}

// Levenshtein distance of two short names.
size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// "; did you mean --NAME?" for the program's flag closest to `name` (at most
// two edits, and fewer than half its letters), else "".
std::string Suggestion(const Program& program, absl::string_view name) {
  std::string best;
  size_t best_distance = 3;
  for (const auto& [flag_name, flag] : absl::GetAllFlags()) {
    if (!IsProgramFlag(program, *flag)) continue;
    const size_t distance = EditDistance(name, flag_name);
    if (2 * distance >= flag_name.size()) continue;
    if (distance < best_distance || (distance == best_distance && flag_name < best)) {
      best = std::string(flag_name);
      best_distance = distance;
    }
  }
  return best.empty() ? "" : absl::StrCat("; did you mean --", best, "?");
}

std::string ExpectedValue(const absl::CommandLineFlag& flag) {
  if (flag.IsOfType<bool>()) return "true or false";
  if (flag.IsOfType<int32_t>() || flag.IsOfType<int64_t>() || flag.IsOfType<int16_t>()) {
    return "an integer";
  }
  if (flag.IsOfType<uint32_t>() || flag.IsOfType<uint64_t>() || flag.IsOfType<uint16_t>()) {
    return "a non-negative integer";
  }
  if (flag.IsOfType<double>() || flag.IsOfType<float>()) return "a number";
  return "";
}

// Sets `flag` from `value`; InvalidArgument naming the flag otherwise.
absl::Status SetFlag(absl::CommandLineFlag& flag, absl::string_view value) {
  std::string error;
  if (flag.ParseFrom(value, &error)) return absl::OkStatus();
  const std::string expected = ExpectedValue(flag);
  // Abseil's message is "Illegal value 'V' specified for flag 'F'" with the
  // parser's reason after "; ", if it gave one.
  const size_t reason = error.find("; ");
  return absl::InvalidArgumentError(absl::StrCat(
      "--", flag.Name(), ": '", value, "' is not a valid value",
      expected.empty() ? "" : absl::StrCat(", expected ", expected),
      reason == std::string::npos ? "" : absl::StrCat(" (", error.substr(reason + 2), ")")));
}

}  // namespace

void DeclareProgram(const Program& program) {
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [paths = program.flag_paths](absl::string_view file) {
    return std::any_of(paths.begin(), paths.end(),
                       [&](const std::string& path) { return absl::StrContains(file, path); });
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  config.version_string = [name = program.name] { return name + "\n"; };
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(program.usage);
}

absl::StatusOr<ParsedArgs> ParseFlags(const Program& program, int argc, char** argv) {
  ParsedArgs parsed;
  if (argc < 1) return parsed;
  absl::flags_internal::SetProgramInvocationName(argv[0]);
  parsed.positional.push_back(argv[0]);
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-') {  // "-" alone is positional too
      parsed.positional.push_back(argv[i]);
      continue;
    }
    if (arg == "--") {
      parsed.positional.insert(parsed.positional.end(), argv + i + 1, argv + argc);
      break;
    }
    arg.remove_prefix(absl::StartsWith(arg, "--") ? 2 : 1);
    const size_t equals = arg.find('=');
    const bool has_value = equals != absl::string_view::npos;
    const absl::string_view name = arg.substr(0, equals);
    absl::string_view value = has_value ? arg.substr(equals + 1) : absl::string_view();

    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    bool negative = false;
    if (flag == nullptr && absl::StartsWith(name, "no")) {
      flag = absl::FindCommandLineFlag(name.substr(2));
      negative = flag != nullptr;
    }
    if (flag == nullptr) {
      // Abseil's usage flags (--help, --helpfull, ...) are not registered flags.
      if (absl::flags_internal::DeduceUsageFlags(name, value)) {
        parsed.usage_requested = true;
        continue;
      }
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, Suggestion(program, name)));
    }
    if (flag->IsOfType<bool>()) {
      if (negative && has_value) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value, expected --",
                                                       name, " or --", flag->Name(), "=", value));
      }
      if (!has_value) value = negative ? "false" : "true";
    } else if (negative) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, " (--", flag->Name(), " is not a boolean flag)"));
    } else if (!has_value) {
      const auto implicit = program.implicit_values.find(std::string(name));
      if (implicit != program.implicit_values.end() &&
          (i + 1 >= argc || absl::StartsWith(argv[i + 1], "-"))) {
        value = implicit->second;
      } else if (i + 1 >= argc) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, ": missing value, expected --", name, "=VALUE"));
      } else {
        value = argv[++i];
      }
    }
    if (absl::Status set = SetFlag(*flag, value); !set.ok()) return set;
  }
  return parsed;
}

void PrintUsage() {
  absl::flags_internal::HandleUsageFlags(std::cout, absl::ProgramUsageMessage());
  std::cout.flush();
}

std::vector<char*> ParseFlagsOrExit(const Program& program, int argc, char** argv) {
  DeclareProgram(program);
  absl::StatusOr<ParsedArgs> parsed = ParseFlags(program, argc, argv);
  if (!parsed.ok()) {
    std::cerr << program.name << ": " << parsed.status().message() << " (see " << program.name
              << " --help)" << std::endl;
    std::exit(2);
  }
  if (parsed->usage_requested) {
    PrintUsage();
    std::exit(0);
  }
  return std::move(parsed->positional);
}

}  // namespace affinity::command_line
