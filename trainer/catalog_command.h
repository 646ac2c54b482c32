// `affinity-train catalog`: loads an item catalog file (--input, with
// --catalog_format) into the catalog of the store at --db. The file is
// parsed completely before anything is written.
#ifndef AFFINITY_TRAINER_CATALOG_COMMAND_H_
#define AFFINITY_TRAINER_CATALOG_COMMAND_H_

#include <ostream>

#include "absl/status/status.h"

namespace affinity {

absl::Status LoadCatalogCommand(std::ostream& out);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_CATALOG_COMMAND_H_
