// `affinity-train catalog`: loads an item catalog file (--input, with
// --catalog_format and --columns) into the catalog of the store at --db:
// the file's columns only, or with --replace the whole catalog. The file is
// parsed completely before the store is opened, and written in one batch
// (all or nothing).
#ifndef AFFINITY_TRAINER_CATALOG_COMMAND_H_
#define AFFINITY_TRAINER_CATALOG_COMMAND_H_

#include <ostream>

#include "absl/status/status.h"

namespace affinity {

// The summary goes to `out`; the one-line note naming ignored columns to
// `err`. InvalidArgument for a bad flag or file, nothing written.
absl::Status LoadCatalogCommand(std::ostream& out, std::ostream& err);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_CATALOG_COMMAND_H_
