#include "tools/cli/rollout_args.h"

#include <cmath>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace affinity::cli {

const char kRolloutUsage[] =
    "affinity rollout: the A/B rollout of model versions in one or more stores.\n"
    "\n"
    "  affinity rollout show      TARGETS\n"
    "  affinity rollout set       TARGETS --arm=NAME [--version=N] [--fraction=F] [--reason=TEXT]\n"
    "  affinity rollout promote   TARGETS [--arm=NAME] [--reason=TEXT]\n"
    "  affinity rollout rollback  TARGETS [--reason=TEXT]\n"
    "  affinity rollout shadow    TARGETS [--version=N] --fraction=F [--reason=TEXT]\n"
    "  affinity rollout policy    TARGETS --mode=control|canary [--canary_fraction=F]\n"
    "                             [--auto_promote_min_impressions=N --auto_promote_max_ctr_drop=D\n"
    "                              | --no_auto_promote] [--reason=TEXT]\n"
    "  affinity rollout history   TARGETS [--limit=20]\n"
    "  affinity rollout status    --db=DIR[,DIR...]\n"
    "\n"
    "TARGETS: --db=DIR[,DIR...] (the stores themselves) or --admin=HOST:PORT[,...]\n"
    "(their servers' RolloutAdmin service; --timeout_ms=5000; --admin_token_file=FILE,\n"
    "--tls_ca=CA.pem, --tls_cert=CERT.pem --tls_key=KEY.pem as the server asks). A change is computed\n"
    "from the first target and the same state is written to every target.\n"
    "Fractions: 0.1, 10% or 1000bp. set --arm=control --version=N pins control\n"
    "(--version=0: control follows the newest eligible version); --fraction=0\n"
    "removes an arm or turns the shadow off.\n"
    "\n"
    "Exit codes: 0 ok; 1 failure (store busy, revision moved on, unreachable\n"
    "target, nothing to roll back or promote); 2 bad usage or input (the flag is\n"
    "named; also a version that is not published or may not take traffic);\n"
    "3 show: the targets disagree.\n";

namespace {

using affinity::v1::NewVersionPolicy;

constexpr char kTargets[] = "db,admin,timeout_ms,tls_ca,tls_cert,tls_key,admin_token_file";
constexpr char kWrite[] = "db,admin,timeout_ms,tls_ca,tls_cert,tls_key,admin_token_file,reason";

// Flags each subcommand takes (besides --help).
const std::map<std::string, std::set<std::string>>& AllowedFlags() {
  static const auto* allowed = new std::map<std::string, std::set<std::string>>{
      {"show", absl::StrSplit(kTargets, ',')},
      {"history", absl::StrSplit(absl::StrCat(kTargets, ",limit"), ',')},
      {"status", {"db"}},
      {"set", absl::StrSplit(absl::StrCat(kWrite, ",arm,version,fraction"), ',')},
      {"promote", absl::StrSplit(absl::StrCat(kWrite, ",arm"), ',')},
      {"rollback", absl::StrSplit(kWrite, ',')},
      {"shadow", absl::StrSplit(absl::StrCat(kWrite, ",version,fraction"), ',')},
      {"policy",
       absl::StrSplit(absl::StrCat(kWrite, ",mode,canary_fraction,auto_promote_min_impressions,",
                                   "auto_promote_max_ctr_drop,no_auto_promote"),
                      ',')},
  };
  return *allowed;
}

absl::Status Bad(absl::string_view flag, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(flag, ": ", what));
}

absl::StatusOr<std::vector<std::string>> ParseTargets(absl::string_view text,
                                                      absl::string_view flag) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    const std::string target(absl::StripAsciiWhitespace(part));
    if (target.empty()) return Bad(flag, absl::StrCat("empty entry in \"", text, "\""));
    if (!seen.insert(target).second) {
      return Bad(flag, absl::StrCat("\"", target, "\" is given twice"));
    }
    out.push_back(target);
  }
  return out;
}

template <typename Int>
absl::StatusOr<Int> ParseInt(absl::string_view text, absl::string_view flag, Int min, Int max,
                             absl::string_view expected) {
  Int value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < min || value > max) {
    return Bad(flag, absl::StrCat("\"", text, "\", expected ", expected));
  }
  return value;
}

}  // namespace

absl::StatusOr<double> ParseShare(absl::string_view text, absl::string_view flag) {
  absl::string_view number = absl::StripAsciiWhitespace(text);
  double scale = 1;
  if (absl::ConsumeSuffix(&number, "bp")) {
    scale = 10000;
  } else if (absl::ConsumeSuffix(&number, "%")) {
    scale = 100;
  }
  // Plain decimals only: no sign, exponent or hexadecimal.
  int digits = 0;
  int points = 0;
  for (char c : number) {
    if (absl::ascii_isdigit(c)) {
      ++digits;
    } else if (c == '.') {
      ++points;
    } else {
      digits = -1;
      break;
    }
  }
  double value = 0;
  if (digits <= 0 || points > 1 || !absl::SimpleAtod(number, &value) || !std::isfinite(value)) {
    return Bad(flag,
               absl::StrCat("\"", text, "\" is not a fraction, expected e.g. 0.1, 10% or 1000bp"));
  }
  const double share = value / scale;
  if (share > 1) {
    return Bad(flag, absl::StrCat("\"", text,
                                  "\" is more than everything, expected 0..1 (0%..100%, "
                                  "0bp..10000bp)"));
  }
  return share;
}

absl::StatusOr<int32_t> ParseFraction(absl::string_view text, absl::string_view flag) {
  absl::StatusOr<double> share = ParseShare(text, flag);
  if (!share.ok()) return share.status();
  const double basis_points = *share * 10000;
  const double rounded = std::round(basis_points);
  if (std::abs(basis_points - rounded) > 1e-6) {
    return Bad(flag,
               absl::StrCat("\"", text, "\" is not a whole number of basis points (1bp = 0.01%)"));
  }
  return static_cast<int32_t>(rounded);
}

absl::StatusOr<RolloutArgs> ParseRolloutArgs(const std::vector<std::string>& args) {
  RolloutArgs out;
  std::vector<std::pair<std::string, std::string>> flags;  // name, value
  std::set<std::string> given;
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h" || arg == "--helpfull") {
      out.help = true;
      return out;
    }
    if (!absl::StartsWith(arg, "--")) {
      if (!out.subcommand.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("unexpected argument \"", arg, "\" after ", out.subcommand));
      }
      out.subcommand = arg;
      continue;
    }
    const std::vector<std::string> parts = absl::StrSplit(arg.substr(2), absl::MaxSplits('=', 1));
    const std::string& name = parts[0];
    if (!given.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " is given twice"));
    }
    if (name == "no_auto_promote") {
      if (parts.size() > 1) return Bad("--no_auto_promote", "takes no value");
      flags.emplace_back(name, "");
      continue;
    }
    if (parts.size() < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " needs a value (--", name, "=...)"));
    }
    flags.emplace_back(name, parts[1]);
  }
  if (out.subcommand.empty()) {
    return absl::InvalidArgumentError(
        "missing subcommand (show, set, promote, rollback, shadow, policy, history, status)");
  }
  const auto allowed = AllowedFlags().find(out.subcommand);
  if (allowed == AllowedFlags().end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown rollout command \"", out.subcommand,
        "\" (expected show, set, promote, rollback, shadow, policy, history or status)"));
  }
  for (const auto& [name, value] : flags) {
    const std::string flag = absl::StrCat("--", name);
    if (!allowed->second.count(name)) {
      bool known = false;
      for (const auto& [command, names] : AllowedFlags()) known = known || names.count(name);
      return absl::InvalidArgumentError(
          known ? absl::StrCat(flag, " does not apply to rollout ", out.subcommand)
                : absl::StrCat("unknown flag ", flag, " (see affinity rollout --help)"));
    }
    if (name == "db" || name == "admin") {
      absl::StatusOr<std::vector<std::string>> targets = ParseTargets(value, flag);
      if (!targets.ok()) return targets.status();
      (name == "db" ? out.db : out.admin) = *std::move(targets);
    } else if (name == "arm") {
      if (value.empty()) return Bad(flag, "expected an arm name");
      out.arm = value;
    } else if (name == "version") {
      absl::StatusOr<uint64_t> v = ParseInt<uint64_t>(
          value, flag, 0, UINT64_MAX, "a model version number (see affinity-train versions)");
      if (!v.ok()) return v.status();
      out.version = *v;
    } else if (name == "fraction" || name == "canary_fraction") {
      absl::StatusOr<int32_t> bp = ParseFraction(value, flag);
      if (!bp.ok()) return bp.status();
      (name == "fraction" ? out.fraction_bp : out.canary_fraction_bp) = *bp;
    } else if (name == "mode") {
      if (value == "control") {
        out.mode = NewVersionPolicy::CONTROL;
      } else if (value == "canary") {
        out.mode = NewVersionPolicy::CANARY;
      } else {
        return Bad(flag, absl::StrCat("\"", value, "\", expected control or canary"));
      }
    } else if (name == "auto_promote_min_impressions") {
      absl::StatusOr<int64_t> n =
          ParseInt<int64_t>(value, flag, 1, INT64_MAX, "a number of impressions >= 1");
      if (!n.ok()) return n.status();
      out.auto_promote_min_impressions = *n;
    } else if (name == "auto_promote_max_ctr_drop") {
      absl::StatusOr<double> drop = ParseShare(value, flag);
      if (!drop.ok()) return drop.status();
      out.auto_promote_max_ctr_drop = *drop;
    } else if (name == "no_auto_promote") {
      out.no_auto_promote = true;
    } else if (name == "limit") {
      absl::StatusOr<int> limit = ParseInt<int>(value, flag, 1, 1000, "1..1000");
      if (!limit.ok()) return limit.status();
      out.limit = *limit;
    } else if (name == "reason") {
      out.reason = value;
    } else if (name == "tls_ca") {
      out.tls_ca = value;
    } else if (name == "tls_cert") {
      out.tls_cert = value;
    } else if (name == "tls_key") {
      out.tls_key = value;
    } else if (name == "admin_token_file") {
      out.admin_token_file = value;
    } else if (name == "timeout_ms") {
      absl::StatusOr<int> ms = ParseInt<int>(value, flag, 1, 3600000, "1..3600000");
      if (!ms.ok()) return ms.status();
      out.timeout_ms = *ms;
    }
  }
  if (!out.db.empty() && !out.admin.empty()) {
    return absl::InvalidArgumentError("give --db or --admin, not both");
  }
  if (out.db.empty() && out.admin.empty()) {
    return absl::InvalidArgumentError(
        out.subcommand == "status"
            ? "rollout status needs --db=DIR[,DIR...] (it reads DIR/events)"
            : absl::StrCat("rollout ", out.subcommand,
                           " needs --db=DIR[,DIR...] or --admin=HOST:PORT[,...]"));
  }
  if ((out.subcommand == "set" && !out.arm.has_value())) {
    return Bad("--arm", "set needs --arm=NAME (control, or a treatment arm)");
  }
  if (out.subcommand == "policy") {
    if (!out.mode.has_value()) return Bad("--mode", "policy needs --mode=control|canary");
    const bool min = out.auto_promote_min_impressions.has_value();
    const bool drop = out.auto_promote_max_ctr_drop.has_value();
    if (min != drop) {
      return Bad(min ? "--auto_promote_max_ctr_drop" : "--auto_promote_min_impressions",
                 "auto-promotion needs both --auto_promote_min_impressions and "
                 "--auto_promote_max_ctr_drop");
    }
    if (min && out.no_auto_promote) {
      return Bad("--no_auto_promote", "contradicts --auto_promote_min_impressions");
    }
  }
  return out;
}

}  // namespace affinity::cli
