// What a Markdown document names, for the tests that hold the READMEs to
// the binaries and the tree: its code (command lines of fenced blocks,
// inline code spans), its prose, the first column of its flag tables, the
// invocations of given programs with the flags each passes, and the
// repository paths it mentions.
//
// Pure functions over strings; nothing reads files.
#ifndef AFFINITY_TESTS_DOCS_DOC_SCAN_H_
#define AFFINITY_TESTS_DOCS_DOC_SCAN_H_

#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace affinity::docs {

struct Snippet {
  enum class Kind {
    kCodeLine,   // a line of a fenced code block, with its continuation lines
                 // (indented, or after a trailing backslash) joined to it
    kCodeSpan,   // an inline `code span` of the prose
    kProse,      // a paragraph of prose without its code spans
    kFlagCell,   // the first cell of a row of a table headed "flag" or "flags"
  };
  Kind kind;
  std::string text;
  int line;  // 1-based line where it starts
};

std::vector<Snippet> Snippets(absl::string_view markdown);

struct Invocation {
  // One of the programs asked for; "affinity rollout" for the `affinity`
  // CLI followed by the word rollout (it reads its own flags).
  std::string program;
  std::vector<std::string> flags;  // names, without "--" and value
};

// The invocations of `programs` in `text`: a word that is one of them or a
// path ending in one (bazel-bin/trainer/affinity-train, $(affinity-train)
// and the --name words after it, up to the end of the command (&&, ||, ;,
// #, &, a pipe into another command, a closing parenthesis). Words are
// taken as a usage synopsis writes them too: [--k=10], a|b alternatives.
std::vector<Invocation> Invocations(absl::string_view text, const std::set<std::string>& programs);

// True when the first word of `text` names a command that is none of
// `programs`: a path (tools/test.sh, a benchmark's bazel-bin path,
// /usr/bin/python3) or a common Debian command (bazel, python3, systemctl,
// rsync, ...). The flags after it are that command's own.
bool StartsWithOtherCommand(absl::string_view text, const std::set<std::string>& programs);

// Every --name in `text`, except in an example of the error for an unknown
// flag ("unknown flag --itrations").
std::vector<std::string> FlagMentions(absl::string_view text);

// Repository paths in `text`: words starting with one of `top_dirs`
// followed by '/' (trainer/eval/metrics.h, tools/nightly/), not preceded
// by another path component, cut before the first placeholder component
// (TARGET, DIR, *.csv) and without trailing punctuation.
std::vector<std::string> RepositoryPaths(absl::string_view text,
                                         const std::vector<std::string>& top_dirs);

// Bazel labels in `text`: //package:target, //package/... (target "..."),
// //package (its last component); placeholder targets (TARGET_fuzzer) are
// left out.
struct Label {
  std::string package;
  std::string target;
};
std::vector<Label> Labels(absl::string_view text);

// bazel-bin/PACKAGE/TARGET words in `text`, as labels.
std::vector<Label> BazelBinPaths(absl::string_view text);

}  // namespace affinity::docs

#endif  // AFFINITY_TESTS_DOCS_DOC_SCAN_H_
