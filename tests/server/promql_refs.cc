#include "tests/server/promql_refs.h"

#include <cctype>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace affinity::server::testing {
namespace {

bool IsIdentStart(char c) {
  return absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool IsIdentChar(char c) {
  return IsIdentStart(c) || absl::ascii_isdigit(static_cast<unsigned char>(c));
}

// Keywords followed by an optional list of label names.
bool IsGroupingKeyword(absl::string_view word) {
  static const auto* words = new absl::flat_hash_set<std::string>(
      {"by", "without", "on", "ignoring", "group_left", "group_right"});
  return words->contains(word);
}

// Words that are never metric names: operators, modifiers, aggregations
// (which may be followed by `by`/`without` instead of a parenthesis) and
// the float literals.
bool IsReservedWord(absl::string_view word) {
  static const auto* words = new absl::flat_hash_set<std::string>(
      {"and",          "or",      "unless", "bool",     "offset", "atan2",  "sum",
       "min",          "max",     "avg",    "group",    "stddev", "stdvar", "count",
       "count_values", "bottomk", "topk",   "quantile", "inf",    "nan"});
  return words->contains(absl::AsciiStrToLower(word));
}

absl::Status Error(size_t offset, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("offset ", offset, ": ", what));
}

class Lexer {
 public:
  explicit Lexer(absl::string_view text) : s_(text) {}

  absl::StatusOr<PromqlRefs> Run() {
    PromqlRefs refs;
    while (true) {
      SkipSpace();
      if (i_ >= s_.size()) return refs;
      const char c = s_[i_];
      if (c == '"' || c == '\'' || c == '`') {
        if (absl::StatusOr<std::string> s = ReadString(); !s.ok()) return s.status();
      } else if (c == '[') {
        const size_t close = s_.find(']', i_);
        if (close == absl::string_view::npos) return Error(i_, "'[' without ']'");
        i_ = close + 1;
      } else if (c == '{') {
        SeriesSelector selector;
        const size_t start = i_;
        if (absl::Status s = ReadMatchers(&selector.matchers); !s.ok()) return s;
        for (const LabelMatcher& m : selector.matchers) {
          if (m.label == "__name__" && m.op == "=") selector.metric = m.value;
        }
        if (selector.metric.empty()) {
          return Error(start, "selector without a metric name, expected name{...}");
        }
        refs.selectors.push_back(std::move(selector));
      } else if (c == '$') {
        ++i_;
        if (i_ < s_.size() && s_[i_] == '{') {
          const size_t close = s_.find('}', i_);
          if (close == absl::string_view::npos) return Error(i_, "'${' without '}'");
          i_ = close + 1;
        } else {
          while (i_ < s_.size() && IsIdentChar(s_[i_])) ++i_;
        }
      } else if (absl::ascii_isdigit(static_cast<unsigned char>(c)) ||
                 (c == '.' && i_ + 1 < s_.size() &&
                  absl::ascii_isdigit(static_cast<unsigned char>(s_[i_ + 1])))) {
        // Numbers and durations: 0.99, 1e3, 0x1f, 5m, 1h30m.
        while (i_ < s_.size() && (IsIdentChar(s_[i_]) || s_[i_] == '.')) ++i_;
      } else if (IsIdentStart(c)) {
        const std::string word = ReadIdentifier();
        SkipSpace();
        const char next = i_ < s_.size() ? s_[i_] : '\0';
        if (IsGroupingKeyword(word)) {
          if (next == '(') {
            if (absl::Status s = ReadLabelList(&refs.grouping_labels); !s.ok()) return s;
          }
        } else if (IsReservedWord(word) || next == '(') {
          // An operator or a function / aggregation call.
        } else {
          SeriesSelector selector;
          selector.metric = word;
          if (next == '{') {
            if (absl::Status s = ReadMatchers(&selector.matchers); !s.ok()) return s;
          }
          refs.selectors.push_back(std::move(selector));
        }
      } else {
        ++i_;  // operators, parentheses, commas
      }
    }
  }

 private:
  void SkipSpace() {
    while (i_ < s_.size()) {
      if (absl::ascii_isspace(static_cast<unsigned char>(s_[i_]))) {
        ++i_;
      } else if (s_[i_] == '#') {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      } else {
        return;
      }
    }
  }

  std::string ReadIdentifier() {
    const size_t start = i_;
    while (i_ < s_.size() && IsIdentChar(s_[i_])) ++i_;
    return std::string(s_.substr(start, i_ - start));
  }

  // A quoted string at i_, unescaped (backquoted strings take no escapes).
  absl::StatusOr<std::string> ReadString() {
    const size_t start = i_;
    const char quote = s_[i_++];
    std::string out;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == quote) return out;
      if (c == '\\' && quote != '`' && i_ < s_.size()) {
        const char e = s_[i_++];
        out.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
      } else {
        out.push_back(c);
      }
    }
    return Error(start, "unterminated string");
  }

  // `(label, label, ...)` at i_.
  absl::Status ReadLabelList(std::set<std::string>* labels) {
    ++i_;
    while (true) {
      SkipSpace();
      if (i_ >= s_.size()) return Error(i_, "label list without ')'");
      if (s_[i_] == ')') {
        ++i_;
        return absl::OkStatus();
      }
      if (!IsIdentStart(s_[i_])) return Error(i_, "expected a label name or ')'");
      labels->insert(ReadIdentifier());
      SkipSpace();
      if (i_ < s_.size() && s_[i_] == ',') ++i_;
    }
  }

  // `{label op "value", ...}` at i_.
  absl::Status ReadMatchers(std::vector<LabelMatcher>* matchers) {
    ++i_;
    while (true) {
      SkipSpace();
      if (i_ >= s_.size()) return Error(i_, "'{' without '}'");
      if (s_[i_] == '}') {
        ++i_;
        return absl::OkStatus();
      }
      if (!IsIdentStart(s_[i_])) return Error(i_, "expected a label name or '}'");
      LabelMatcher m;
      m.label = ReadIdentifier();
      SkipSpace();
      for (const char* op : {"=~", "!~", "!=", "="}) {
        if (s_.substr(i_).substr(0, std::char_traits<char>::length(op)) == op) {
          m.op = op;
          break;
        }
      }
      if (m.op.empty()) return Error(i_, "expected =, !=, =~ or !~ after a label name");
      i_ += m.op.size();
      SkipSpace();
      if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\'' && s_[i_] != '`')) {
        return Error(i_, "expected a quoted label value");
      }
      absl::StatusOr<std::string> value = ReadString();
      if (!value.ok()) return value.status();
      m.value = *std::move(value);
      matchers->push_back(std::move(m));
      SkipSpace();
      if (i_ < s_.size() && s_[i_] == ',') ++i_;
    }
  }

  absl::string_view s_;
  size_t i_ = 0;
};

}  // namespace

absl::StatusOr<PromqlRefs> ParsePromqlRefs(absl::string_view expr) { return Lexer(expr).Run(); }

}  // namespace affinity::server::testing
