// `affinity-train export` and `affinity-train import-version`: ship one
// published model version to another store (a serving replica on another
// machine) as a checksummed RocksDB backup directory
// (storage/version_transfer.h). Flags: --db, --to and --from.
#ifndef AFFINITY_TRAINER_TRANSFER_COMMANDS_H_
#define AFFINITY_TRAINER_TRANSFER_COMMANDS_H_

#include <cstdint>
#include <ostream>

#include "absl/status/status.h"

namespace affinity {

// Writes version `version` of --db into the new or empty directory --to.
// InvalidArgument for a missing flag or a version < 1.
absl::Status ExportVersionCommand(int64_t version, std::ostream& out);

// Verifies the export in --from and adds its version to the store at --db
// under the same number; an identical version already there is a no-op.
absl::Status ImportVersionCommand(std::ostream& out);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_TRANSFER_COMMANDS_H_
