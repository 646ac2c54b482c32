#include "tests/docs/doc_scan.h"

#include <regex>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace affinity::docs {
namespace {

bool IsBlank(absl::string_view line) { return absl::StripAsciiWhitespace(line).empty(); }

bool IsIndented(absl::string_view line) {
  return !line.empty() && absl::ascii_isspace(static_cast<unsigned char>(line[0]));
}

// The cells of a table row "| a | b |", blanks stripped.
std::vector<std::string> Cells(absl::string_view row) {
  std::vector<std::string> cells;
  for (absl::string_view cell : absl::StrSplit(row, '|')) {
    cells.emplace_back(absl::StripAsciiWhitespace(cell));
  }
  if (cells.size() >= 2) cells = {cells.begin() + 1, cells.end() - 1};
  return cells;
}

// Splits a paragraph at its backticks into code spans and prose.
void SplitParagraph(const std::string& paragraph, int line, std::vector<Snippet>* out) {
  const std::vector<std::string> parts = absl::StrSplit(paragraph, '`');
  std::string prose;
  for (size_t i = 0; i < parts.size(); ++i) {
    // An unmatched last backtick leaves its text as prose.
    if (i % 2 == 1 && i + 1 < parts.size()) {
      out->push_back({Snippet::Kind::kCodeSpan, parts[i], line});
    } else {
      prose += parts[i] + " ";
    }
  }
  out->push_back({Snippet::Kind::kProse, prose, line});
}

// A word as the name of a command: leading "$(", quotes and brackets
// removed; empty unless what is left is a plain path or name.
std::string CommandWord(absl::string_view word) {
  const size_t substitution = word.rfind("$(");  // out=$(command ...
  if (substitution != absl::string_view::npos) word.remove_prefix(substitution + 2);
  while (!word.empty() && absl::StrContains("$(\"'[", word.front())) word.remove_prefix(1);
  static const std::regex kPlain(R"([A-Za-z0-9_./-]+)");
  if (word.empty() || !std::regex_match(word.begin(), word.end(), kPlain)) return "";
  return std::string(word);
}

std::string Basename(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return std::string(slash == absl::string_view::npos ? path : path.substr(slash + 1));
}

bool IsPlaceholder(absl::string_view component) {
  // DIR, TARGET, TARGET_fuzzer, *.csv, $HOME, ... (BUILD and README.md are names).
  static const std::regex kPlaceholder(R"([A-Z][A-Z0-9_]+|.*([A-Z]{2,}_|_[A-Z]{2,}|\*|\$|\.\.\.).*)");
  return component != "BUILD" &&
         std::regex_match(component.begin(), component.end(), kPlaceholder);
}

}  // namespace

std::vector<Snippet> Snippets(absl::string_view markdown) {
  std::vector<Snippet> out;
  const std::vector<absl::string_view> lines = absl::StrSplit(markdown, '\n');
  bool in_code = false;
  size_t block_start = 0;  // index in `out` of the open code block's first line
  bool in_flag_table = false;
  std::string paragraph;
  int paragraph_line = 0;
  auto flush = [&] {
    if (!paragraph.empty()) SplitParagraph(paragraph, paragraph_line, &out);
    paragraph.clear();
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    const absl::string_view line = lines[i];
    const int number = static_cast<int>(i) + 1;
    if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(line), "```")) {
      flush();
      in_code = !in_code;
      block_start = out.size();
      continue;
    }
    if (in_code) {
      const bool continues = out.size() > block_start &&
                             (IsIndented(line) || absl::EndsWith(out.back().text, "\\"));
      if (IsBlank(line)) continue;
      if (continues) {
        out.back().text += " " + std::string(absl::StripAsciiWhitespace(line));
      } else {
        out.push_back({Snippet::Kind::kCodeLine, std::string(line), number});
      }
      continue;
    }
    if (absl::StartsWith(line, "|")) {
      flush();
      const bool header = i + 1 < lines.size() && absl::StartsWith(lines[i + 1], "|---");
      if (header) {
        const std::vector<std::string> cells = Cells(line);
        in_flag_table = !cells.empty() && (cells[0] == "flag" || cells[0] == "flags");
      } else if (!absl::StartsWith(line, "|---") && in_flag_table) {
        const std::vector<std::string> cells = Cells(line);
        if (!cells.empty()) out.push_back({Snippet::Kind::kFlagCell, cells[0], number});
      }
      // Each row is a paragraph of its own.
      SplitParagraph(std::string(line), number, &out);
      continue;
    }
    in_flag_table = false;
    if (IsBlank(line) || absl::StartsWith(line, "#")) {
      flush();
      if (!IsBlank(line)) SplitParagraph(std::string(line), number, &out);
      continue;
    }
    if (paragraph.empty()) paragraph_line = number;
    paragraph += std::string(line) + " ";
  }
  flush();
  return out;
}

std::vector<Invocation> Invocations(absl::string_view text, const std::set<std::string>& programs) {
  std::vector<Invocation> found;
  const std::vector<absl::string_view> words = absl::StrSplit(text, ' ', absl::SkipWhitespace());
  bool open = false;
  for (size_t i = 0; i < words.size(); ++i) {
    absl::string_view word = words[i];
    const std::string command = CommandWord(word);
    if (!command.empty() && programs.count(Basename(command))) {
      std::string program = Basename(command);
      if (program == "affinity" && i + 1 < words.size() &&
          absl::StartsWith(words[i + 1], "rollout")) {
        program = "affinity rollout";
      }
      found.push_back({program, {}});
      open = true;
      continue;
    }
    if (!open) continue;
    if (word == "&&" || word == "||" || word == ";" || word == "&" || absl::StartsWith(word, "#")) {
      open = false;
      continue;
    }
    if (word == "|") {
      // In a synopsis "a | --b" offers alternatives; "a | grep" pipes.
      const bool alternative = i + 1 < words.size() && (absl::StartsWith(words[i + 1], "-") ||
                                                        absl::StartsWith(words[i + 1], "["));
      open = alternative;
      continue;
    }
    absl::string_view flag = word;
    while (!flag.empty() && absl::StrContains("[(\"'", flag.front())) flag.remove_prefix(1);
    static const std::regex kFlag(R"(--([a-z][a-z0-9_]*).*)");
    std::cmatch match;
    if (std::regex_match(flag.begin(), flag.end(), match, kFlag)) {
      found.back().flags.push_back(match[1]);
    }
    if (absl::EndsWith(word, ";") || absl::EndsWith(word, ")")) open = false;
  }
  return found;
}

bool StartsWithOtherCommand(absl::string_view text, const std::set<std::string>& programs) {
  static const std::set<std::string> kCommands = {
      "adduser", "apt-get", "awk", "bash", "bazel", "cp", "curl", "git", "grpcurl", "journalctl",
      "mv", "protoc", "python3", "rsync", "scp", "sed", "sort", "ssh", "systemctl"};
  const std::vector<absl::string_view> words = absl::StrSplit(text, ' ', absl::SkipWhitespace());
  if (words.empty()) return false;
  const std::string command = CommandWord(words[0]);
  if (command.empty() || command != words[0] || programs.count(Basename(command))) return false;
  return kCommands.count(command) || absl::StrContains(command, '/');
}

std::vector<std::string> FlagMentions(absl::string_view text) {
  std::vector<std::string> names;
  // Not followed by '-': the project's flags never hold one (pip's
  // --no-build-isolation is another program's).
  static const std::regex kFlag(R"((unknown flag |^|[^\w-])--([a-z][a-z0-9_]*)(?![\w-]))");
  const std::string s(text);
  for (std::sregex_iterator it(s.begin(), s.end(), kFlag), end; it != end; ++it) {
    if ((*it)[1] != "unknown flag ") names.push_back((*it)[2]);
  }
  return names;
}

std::vector<std::string> RepositoryPaths(absl::string_view text,
                                         const std::vector<std::string>& top_dirs) {
  const std::regex pattern("(^|[^\\w/.$~-])((" + absl::StrJoin(top_dirs, "|") +
                           ")/[A-Za-z0-9_./*$@-]*)");
  std::vector<std::string> paths;
  const std::string s(text);
  for (std::sregex_iterator it(s.begin(), s.end(), pattern), end; it != end; ++it) {
    std::vector<std::string> kept;
    for (absl::string_view component : absl::StrSplit((*it)[2].str(), '/')) {
      if (IsPlaceholder(component)) break;
      kept.emplace_back(component);
    }
    std::string path = absl::StrJoin(kept, "/");
    while (!path.empty() && absl::StrContains(".,:;-", path.back())) path.pop_back();
    paths.push_back(path);
  }
  return paths;
}

std::vector<Label> Labels(absl::string_view text) {
  // Not after ':' (http://host, dns:///).
  static const std::regex kLabel(
      R"((^|[^:/\w])//([a-z0-9_/]*[a-z0-9_])(?::([A-Za-z0-9_.+-]+)|/(\.\.\.))?)");
  std::vector<Label> labels;
  const std::string s(text);
  for (std::sregex_iterator it(s.begin(), s.end(), kLabel), end; it != end; ++it) {
    std::string target = (*it)[3].matched ? (*it)[3].str()
                         : (*it)[4].matched ? "..."
                                            : Basename((*it)[2].str());
    if (target == "..." || !IsPlaceholder(target)) labels.push_back({(*it)[2], target});
  }
  return labels;
}

std::vector<Label> BazelBinPaths(absl::string_view text) {
  static const std::regex kPath(R"(bazel-bin/([a-z0-9_/]+)/([A-Za-z0-9_.-]*[A-Za-z0-9_]))");
  std::vector<Label> labels;
  const std::string s(text);
  for (std::sregex_iterator it(s.begin(), s.end(), kPath), end; it != end; ++it) {
    if (!IsPlaceholder((*it)[2].str())) labels.push_back({(*it)[1], (*it)[2]});
  }
  return labels;
}

}  // namespace affinity::docs
