#include "trainer/eval/metrics_table.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace affinity {
namespace eval {
namespace {

constexpr absl::string_view kMissing = "-";
constexpr absl::string_view kGap = "  ";

// Characters of a UTF-8 string: every byte that does not continue a
// multi-byte sequence.
size_t DisplayWidth(absl::string_view text) {
  return static_cast<size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string WithInterval(double value, double ci95) {
  return absl::StrFormat("%.4f ±%.4f", value, ci95);
}

using Row = std::vector<std::string>;

}  // namespace

std::string FormatMetricsTable(absl::Span<const MetricsColumn> columns) {
  int k = 0;
  bool any_ratings = false;
  for (const MetricsColumn& c : columns) {
    if (k == 0 && c.ranking != nullptr) k = c.ranking->k;
    any_ratings = any_ratings || c.ratings != nullptr;
  }

  std::vector<Row> rows;
  Row header = {"metric"};
  for (const MetricsColumn& c : columns) {
    header.push_back(c.ranking != nullptr && c.ranking->k != k
                         ? absl::StrCat(c.name, " (k=", c.ranking->k, ")")
                         : c.name);
  }
  rows.push_back(std::move(header));

  auto ranking_row = [&](absl::string_view label,
                         const std::function<std::string(const RankingMetrics&)>&
                             cell) {
    Row row = {std::string(label)};
    for (const MetricsColumn& c : columns) {
      row.push_back(c.ranking != nullptr ? cell(*c.ranking)
                                         : std::string(kMissing));
    }
    rows.push_back(std::move(row));
  };
  auto rating_row = [&](absl::string_view label,
                        const std::function<std::string(const RatingMetrics&)>&
                            cell) {
    Row row = {std::string(label)};
    for (const MetricsColumn& c : columns) {
      row.push_back(c.ratings != nullptr ? cell(*c.ratings)
                                         : std::string(kMissing));
    }
    rows.push_back(std::move(row));
  };

  const std::string at = absl::StrCat("@", k);
  ranking_row(absl::StrCat("precision", at), [](const RankingMetrics& m) {
    return WithInterval(m.precision, m.precision_ci95);
  });
  ranking_row(absl::StrCat("recall", at), [](const RankingMetrics& m) {
    return WithInterval(m.recall, m.recall_ci95);
  });
  ranking_row(absl::StrCat("ndcg", at), [](const RankingMetrics& m) {
    return WithInterval(m.ndcg, m.ndcg_ci95);
  });
  ranking_row(absl::StrCat("map", at), [](const RankingMetrics& m) {
    return WithInterval(m.map, m.map_ci95);
  });
  ranking_row(absl::StrCat("coverage", at), [](const RankingMetrics& m) {
    return absl::StrFormat("%.4f", m.coverage);
  });
  if (any_ratings) {
    rating_row("rmse", [](const RatingMetrics& m) {
      return WithInterval(m.rmse, m.rmse_ci95);
    });
    rating_row("mae", [](const RatingMetrics& m) {
      return WithInterval(m.mae, m.mae_ci95);
    });
  }
  ranking_row("users evaluated", [](const RankingMetrics& m) {
    return absl::StrCat(m.users_evaluated);
  });
  if (any_ratings) {
    rating_row("ratings", [](const RatingMetrics& m) {
      return absl::StrCat(m.ratings_evaluated);
    });
  }

  std::vector<size_t> widths(columns.size() + 1, 0);
  for (const Row& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(row[c]));
    }
  }
  std::string out;
  for (const Row& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      if (c > 0) absl::StrAppend(&line, kGap);
      absl::StrAppend(&line, row[c]);
      if (c + 1 < row.size()) {
        line.append(widths[c] - DisplayWidth(row[c]), ' ');
      }
    }
    line.erase(line.find_last_not_of(' ') + 1);
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

}  // namespace eval
}  // namespace affinity
