// `affinity rules check FILE [--db=DIR] [--max_k=1000]`: validates a rules
// file without starting a server. The file is read as affinity-server reads
// it (server/rules/rule_config_loader.h), so a bad file gets the server's
// own "FILE:LINE:COL: field: what" message; with a store directory, its
// rule sets are also checked against the catalog in DIR/catalog
// (server/rules/rules_catalog_check.h): errors for filters that keep no
// item, warnings for values, attributes and pinned items the catalog lacks,
// each "FILE:LINE:COL: [warning: ]field: what".
//
// Contract: errors and warnings go to `err`, one per line, then (invalid)
// a verdict line; a valid file's verdict goes to `out`. Returns the exit
// code: 0 valid (warnings allowed), 1 invalid, 2 FILE cannot be read or
// the catalog under DIR cannot (none there: nothing is created).
#ifndef AFFINITY_TOOLS_CLI_RULES_COMMAND_H_
#define AFFINITY_TOOLS_CLI_RULES_COMMAND_H_

#include <ostream>
#include <string>

namespace affinity::cli {

// `db` empty: no catalog check. `max_slot`: the server's --max_k.
int RunRulesCheck(const std::string& file, const std::string& db, int max_slot,
                  std::ostream& out, std::ostream& err);

}  // namespace affinity::cli

#endif  // AFFINITY_TOOLS_CLI_RULES_COMMAND_H_
