// Escaping of text for HTML pages. Pure function; thread-safe.
#ifndef AFFINITY_TRAINER_REPORT_HTML_ESCAPE_H_
#define AFFINITY_TRAINER_REPORT_HTML_ESCAPE_H_

#include <string>

namespace affinity {

// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string HtmlEscape(const std::string& text);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_REPORT_HTML_ESCAPE_H_
