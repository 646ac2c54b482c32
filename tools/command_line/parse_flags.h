// Parses a binary's command line into its Abseil flags, with the exit codes
// the READMEs promise: a bad flag exits 2 with one line on stderr naming it
// and pointing at --help; --help (and Abseil's other usage flags: --helpfull,
// --helpshort, --helpmatch=S, --helppackage, --version where the program has
// no --version of its own, --only_check_args) prints to stdout and exits 0.
//
// Accepted forms, as absl::ParseCommandLine: --name=value, -name=value,
// --name value (not for booleans), --bool, --nobool, and "--", after which
// every word is positional. --flagfile, --fromenv, --tryfromenv and --undefok
// are not read (no binary documents them).
//
// Contract: ParseFlags sets flags and returns the positional words, or an
// InvalidArgument naming the flag; it neither prints nor exits. Call once,
// from main(), before other threads start (Abseil's flag writes are
// thread-safe, the usage settings are process-wide).
#ifndef AFFINITY_TOOLS_COMMAND_LINE_PARSE_FLAGS_H_
#define AFFINITY_TOOLS_COMMAND_LINE_PARSE_FLAGS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace affinity::command_line {

// What a binary tells the parser about itself.
struct Program {
  // Name that prefixes error messages, e.g. "affinity-train".
  std::string name;
  // Printed first by --help.
  std::string usage;
  // The program's own flags are those defined in a source file whose path
  // contains one of these (e.g. "trainer/"): --help lists them and an
  // unknown flag is compared with them for a "did you mean".
  std::vector<std::string> flag_paths;
  // Non-boolean flags that may stand alone, and the value they then take:
  // {"users", "all"} makes "--users" (last, or before another flag) mean
  // "--users=all". Other non-boolean flags need a value.
  std::map<std::string, std::string> implicit_values = {};
};

struct ParsedArgs {
  // argv[0], then the positional words in order (as absl::ParseCommandLine).
  std::vector<char*> positional;
  // A usage flag was given; PrintUsage prints what it asked for.
  bool usage_requested = false;
};

// Declares `program`'s usage message and own flags to Abseil (for --help).
void DeclareProgram(const Program& program);

// Parses argv[1..argc) into the registered flags. Errors (InvalidArgument):
// "unknown flag --x" (with "; did you mean --y?" when one of the program's
// flags is one or two edits away), "--x: 'v' is not a valid value, expected
// an integer", "--x: missing value", "--nox: --x is not a boolean flag".
absl::StatusOr<ParsedArgs> ParseFlags(const Program& program, int argc, char** argv);

// Prints what the usage flags asked for to stdout (Abseil's format: the
// usage message, then each of the program's flags with its default).
void PrintUsage();

// DeclareProgram, ParseFlags, and then: usage requested -> PrintUsage,
// exit 0; error -> "NAME: MESSAGE (see NAME --help)" on stderr, exit 2.
// Returns the positional words otherwise.
std::vector<char*> ParseFlagsOrExit(const Program& program, int argc, char** argv);

}  // namespace affinity::command_line

#endif  // AFFINITY_TOOLS_COMMAND_LINE_PARSE_FLAGS_H_
