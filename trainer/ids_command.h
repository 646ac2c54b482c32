// `affinity-train ids --db=DIR --users|--items [--limit=N] [--version=V]`:
// writes the user or item ids of a published version (the live one by
// default), one per line, to `out`; a summary line goes to `log`. Users come
// in the byte order of their ids, items in the model's order. An id holding
// a line break cannot be written one per line: it is skipped and counted.
//
// Errors: InvalidArgument for a missing, contradictory or bad flag;
// NotFound "no model store at DIR" (IsNoModelStore) or for an unknown
// version; the store's own errors otherwise. Nothing is written to the
// store.
#ifndef AFFINITY_TRAINER_IDS_COMMAND_H_
#define AFFINITY_TRAINER_IDS_COMMAND_H_

#include <ostream>

#include "absl/status/status.h"

namespace affinity {

// --users (alone, i.e. "all") or --items; reads --db, --version, --limit.
absl::Status ExportIdsCommand(std::ostream& out, std::ostream& log);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_IDS_COMMAND_H_
