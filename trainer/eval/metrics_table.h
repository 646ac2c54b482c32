// Formats evaluation results side by side as a fixed-width text table, one
// named column per model or baseline and one row per metric; the nightly
// comparison prints it. For example:
//
//   metric           candidate        live             most-popular
//   precision@10     0.3512 ±0.0081   0.3430 ±0.0080   0.1884 ±0.0075
//   recall@10        ...
//   ndcg@10          ...
//   map@10           ...
//   coverage@10      0.2990           0.2811           0.0303
//   rmse             0.9123 ±0.0101   0.9200 ±0.0102   -
//   mae              0.7171 ±0.0075   0.7230 ±0.0076   -
//   users evaluated  943              943              943
//   ratings          20000            20000            -
//
// Cells: value and 95% half-width ("%.4f ±%.4f") for precision, recall,
// ndcg, map, rmse and mae; "%.4f" for coverage; counts as integers; "-"
// where a column has no such result. The rmse, mae and ratings rows appear
// only when some column has rating metrics. Columns are two spaces apart,
// padded to their widest cell counted in characters (UTF-8 "±" is one),
// lines end in "\n" without trailing spaces. Row labels carry the k of the
// first column with ranking metrics; a column whose k differs gets
// " (k=N)" after its name. A pure function: the columns' pointers are not
// owned and are only read during the call.
#ifndef AFFINITY_TRAINER_EVAL_METRICS_TABLE_H_
#define AFFINITY_TRAINER_EVAL_METRICS_TABLE_H_

#include <string>

#include "absl/types/span.h"
#include "trainer/eval/metrics.h"
#include "trainer/eval/rating_metrics.h"

namespace affinity {
namespace eval {

struct MetricsColumn {
  std::string name;
  // Either may be null: the column then shows "-" in those rows.
  const RankingMetrics* ranking = nullptr;
  const RatingMetrics* ratings = nullptr;
};

std::string FormatMetricsTable(absl::Span<const MetricsColumn> columns);

}  // namespace eval
}  // namespace affinity

#endif  // AFFINITY_TRAINER_EVAL_METRICS_TABLE_H_
