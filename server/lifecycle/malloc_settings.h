// Malloc settings for a process that loads and frees whole model versions.
//
// glibc's malloc gives a block of at least its mmap threshold (128 KiB at
// start) its own mapping, which goes back to the system when the block is
// freed. But each time such a block is freed, glibc raises the threshold to
// that block's size (up to 32 MiB), so once the first version is retired,
// the next versions' blocks below 32 MiB (catalog records, prepared rules,
// rule-set copies) come from its arenas instead. Freed there, they stay in
// the process: its RSS grows with every swap. Setting the threshold with
// mallopt turns that adjustment off; a block of kFixedMmapThresholdBytes or
// more is then always mapped on its own and returned when freed.
//
// The threshold is 1 MiB, not glibc's 128 KiB: smaller blocks are allocated
// and freed over and over while a version loads (Eigen's product buffers,
// 256 KiB in k-means) and a mapping each time would mean page faults and
// unmappings beside the serving threads. Code that needs a block of 1 MiB or
// more over and over keeps one (see kmeans.cc). Requests allocate less.
//
// Fixing the mmap threshold also fixes the trim threshold (free memory at an
// arena's top above it is handed back), which glibc would otherwise keep at
// twice the raised mmap threshold: at its 128 KiB default the request
// threads' arenas shrink and grow again all the time (madvise, page
// faults). It is set to 32 MiB; glibc's default climbs to twice the raised
// mmap threshold (up to 64 MiB) once a version's large blocks are freed.
//
// Process-wide; call once at start, before threads allocate (not
// thread-safe against concurrent mallopt calls).
#ifndef AFFINITY_SERVER_LIFECYCLE_MALLOC_SETTINGS_H_
#define AFFINITY_SERVER_LIFECYCLE_MALLOC_SETTINGS_H_

#include <cstddef>

namespace affinity::server {

inline constexpr size_t kFixedMmapThresholdBytes = 1024 * 1024;
inline constexpr size_t kFixedTrimThresholdBytes = 32 * 1024 * 1024;

// Fixes glibc's mmap threshold at kFixedMmapThresholdBytes and its trim
// threshold at kFixedTrimThresholdBytes. Each is left alone when the
// environment sets it (MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_, or
// glibc.malloc.mmap_threshold / trim_threshold in GLIBC_TUNABLES: the
// operator's value is kept). Returns true when it set both; false when the
// environment set one or mallopt refused (a malloc other than glibc's, e.g.
// a sanitizer's).
bool FixMallocThresholds();

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_LIFECYCLE_MALLOC_SETTINGS_H_
