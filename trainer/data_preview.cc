#include "trainer/data_preview.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "trainer/als_run.h"
#include "trainer/data/data_profile.h"

namespace affinity {
namespace {

void ToProto(const Quantiles& q, affinity::v1::Quantiles* out) {
  out->set_count(q.count);
  out->set_min(q.min);
  out->set_p25(q.p25);
  out->set_median(q.median);
  out->set_p75(q.p75);
  out->set_p90(q.p90);
  out->set_p99(q.p99);
  out->set_max(q.max);
  out->set_mean(q.mean);
}

void ToProto(const std::vector<HistogramBin>& bins,
             google::protobuf::RepeatedPtrField<affinity::v1::HistogramBin>* out) {
  for (const HistogramBin& b : bins) {
    affinity::v1::HistogramBin* bin = out->Add();
    bin->set_low(b.low);
    bin->set_high(b.high);
    bin->set_count(b.count);
  }
}

void ToProto(const std::vector<IdCount>& top,
             google::protobuf::RepeatedPtrField<affinity::v1::IdCount>* out) {
  for (const IdCount& c : top) {
    affinity::v1::IdCount* id = out->Add();
    id->set_id(c.id);
    id->set_interactions(c.interactions);
  }
}

std::string Number(double v) { return absl::StrFormat("%.6g", v); }

std::string QuantilesLine(const std::string& what, const affinity::v1::Quantiles& q) {
  return absl::StrFormat("%s: min %s, p25 %s, median %s, p75 %s, p90 %s, p99 %s, max %s, mean %s\n",
                         what, Number(q.min()), Number(q.p25()), Number(q.median()),
                         Number(q.p75()), Number(q.p90()), Number(q.p99()), Number(q.max()),
                         absl::StrFormat("%.4g", q.mean()));
}

std::string TopLine(const std::string& what,
                    const google::protobuf::RepeatedPtrField<affinity::v1::IdCount>& top,
                    int shown) {
  std::string line = absl::StrCat(what, " (interactions): ");
  for (int i = 0; i < top.size() && i < shown; ++i) {
    absl::StrAppend(&line, i ? ", " : "", PrintableId(top[i].id()), " (",
                    Number(top[i].interactions()), ")");
  }
  return line + "\n";
}

bool LooksLikeUnixSeconds(int64_t t) { return t >= 100000000 && t <= 4000000000; }

}  // namespace

std::string PrintableId(const std::string& id) {
  std::string out;
  for (const char c : id) {
    const unsigned char b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7F) {
      absl::StrAppend(&out, absl::CHexEscape(absl::string_view(&c, 1)));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string DescribeTimestamp(int64_t timestamp) {
  if (!LooksLikeUnixSeconds(timestamp)) return absl::StrCat(timestamp);
  return absl::StrCat(timestamp, " (",
                      absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixSeconds(timestamp),
                                       absl::UTCTimeZone()),
                      ")");
}

affinity::v1::DataProfile DataProfileProto(const Interactions& data, WeightTransform transform,
                                           int top_n) {
  const DataProfile profile = ProfileInteractions(data, top_n);
  affinity::v1::DataProfile out;
  out.set_columns(data.stats.columns);
  for (const ParsedRow& row : data.stats.first_rows) {
    affinity::v1::ParsedRow* r = out.add_first_rows();
    r->set_line(row.line);
    r->set_user(row.user);
    r->set_item(row.item);
    r->set_weight(row.weight);
    r->set_timestamp(row.timestamp);
  }
  out.set_weight_transform(WeightTransformName(transform));
  ToProto(profile.weights, out.mutable_weights());
  ToProto(profile.weight_histogram, out.mutable_weight_histogram());
  ToProto(profile.interactions_per_user, out.mutable_interactions_per_user());
  ToProto(profile.user_histogram, out.mutable_user_histogram());
  ToProto(profile.interactions_per_item, out.mutable_interactions_per_item());
  ToProto(profile.item_histogram, out.mutable_item_histogram());
  ToProto(profile.top_users, out.mutable_top_users());
  ToProto(profile.top_items, out.mutable_top_items());
  out.set_has_timestamps(profile.has_timestamps);
  out.set_first_timestamp(profile.first_timestamp);
  out.set_last_timestamp(profile.last_timestamp);
  return out;
}

std::string FormatDataPreview(const affinity::v1::DataProfile& profile, int top_shown) {
  const bool weights = profile.columns() >= 3;
  const bool timestamps = profile.columns() >= 4;
  std::string text = absl::StrCat("first rows as parsed (line: user, item",
                                  weights ? ", weight" : "", timestamps ? ", timestamp" : "",
                                  "):\n");
  for (const affinity::v1::ParsedRow& row : profile.first_rows()) {
    absl::StrAppend(&text, "  line ", Number(row.line()), ": ", PrintableId(row.user()), ", ",
                    PrintableId(row.item()), weights ? absl::StrCat(", ", Number(row.weight())) : "",
                    timestamps ? absl::StrCat(", ", DescribeTimestamp(row.timestamp())) : "",
                    "\n");
  }
  text += QuantilesLine(absl::StrCat("weights as trained (", weights ? "" : "1 per row, ",
                                     "duplicates summed, --weight=", profile.weight_transform(),
                                     ")"),
                        profile.weights());
  text += QuantilesLine("interactions per user", profile.interactions_per_user());
  text += QuantilesLine("interactions per item", profile.interactions_per_item());
  text += TopLine("most active users", profile.top_users(), top_shown);
  text += TopLine("most popular items", profile.top_items(), top_shown);
  if (profile.has_timestamps()) {
    absl::StrAppend(&text, "timestamps: ", DescribeTimestamp(profile.first_timestamp()), " .. ",
                    DescribeTimestamp(profile.last_timestamp()), "\n");
  }
  return text;
}

}  // namespace affinity
