// The data as it passes through the trainer: the profile of the ingested
// interactions (trainer/data/data_profile.h) as the report's DataProfile
// message, and the same figures as the few lines the trainer prints before
// training starts. Pure functions; thread-safe.
#ifndef AFFINITY_TRAINER_DATA_PREVIEW_H_
#define AFFINITY_TRAINER_DATA_PREVIEW_H_

#include <string>

#include "affinity/v1/training_report.pb.h"
#include "trainer/data/interactions_reader.h"

namespace affinity {

// Profiles `data` once (the top_n most active users and popular items) and
// adds the reader's first parsed rows and `transform`'s name.
affinity::v1::DataProfile DataProfileProto(const Interactions& data, WeightTransform transform,
                                           int top_n = 10);

// The terminal lines, each ending in '\n':
//   first rows as parsed (line: user, item, weight, timestamp):
//     line 2: 1, 31, 2.5, 1260759144 (2009-12-14 02:52:24 UTC)
//   weights as trained (duplicates summed, --weight=raw): min 0.5, p25 3, ...
//   interactions per user: min 20, p25 ..., max 2698, mean 165.3
//   interactions per item: ...
//   most active users (interactions): 414 (2698), 599 (2478), ...
//   most popular items (interactions): 356 (329), ...
//   timestamps: 828124615 (1996-03-29) .. 1537799250 (2018-09-24)
// with the top_shown first users and items. Control characters in ids
// are escaped (\t, \x1b, ...); timestamps that look like Unix seconds
// (1973..2096) get their UTC date.
std::string FormatDataPreview(const affinity::v1::DataProfile& profile, int top_shown = 5);

// "1260759144 (2009-12-14 02:52:24 UTC)" for Unix seconds, else the number.
std::string DescribeTimestamp(int64_t timestamp);

// An id fit for a terminal: control bytes escaped, UTF-8 kept.
std::string PrintableId(const std::string& id);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_DATA_PREVIEW_H_
