// The process's peak resident set size (VmHWM), for run summaries.
#ifndef AFFINITY_TRAINER_REPORT_PEAK_MEMORY_H_
#define AFFINITY_TRAINER_REPORT_PEAK_MEMORY_H_

#include <cstdint>

namespace affinity {

// Bytes; 0 when the platform does not tell.
int64_t PeakResidentBytes();

}  // namespace affinity

#endif  // AFFINITY_TRAINER_REPORT_PEAK_MEMORY_H_
