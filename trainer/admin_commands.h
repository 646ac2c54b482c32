// affinity-train's subcommands other than training: catalog loading and the
// model store's admin operations (list, roll back, unpin, delete) and a
// top-k preview of the live model, the import of Spark MLlib ALS factors
// (trainer/import_command.h) and shipping versions between stores
// (trainer/transfer_commands.h). Each reads its flags (--db, --input,
// --version, --users, --k, --catalog_format, ...).
#ifndef AFFINITY_TRAINER_ADMIN_COMMANDS_H_
#define AFFINITY_TRAINER_ADMIN_COMMANDS_H_

#include <ostream>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace affinity {

// InvalidArgument for an unknown command or a missing/bad flag.
absl::Status RunAdminCommand(absl::string_view command, std::ostream& out);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_ADMIN_COMMANDS_H_
