// RunOnNicedThread: runs a function to completion on a new thread whose nice
// value is `nice`, or the caller's when that is higher (never a higher
// priority than the caller's; Linux gives each thread its own nice value;
// threads the function starts inherit it) and, with `sched_idle`, whose
// scheduling policy is SCHED_IDLE (a thread of normal policy that wakes on
// its core preempts it at once, where a niced thread may first finish its
// time slice), and returns when it has run.
// The caller keeps its own priority: an unprivileged thread cannot lower its
// nice value again, so work that must stay at normal priority (a RocksDB
// catch-up holding the database mutex that request threads take) stays on
// the caller while the CPU-heavy part (loading a version) runs niced.
// `nice` <= 0 without `sched_idle` runs `fn` on the caller's thread.
// Exceptions from `fn` are the caller's to prevent (fn should not throw).
#ifndef AFFINITY_SERVER_LIFECYCLE_NICED_THREAD_H_
#define AFFINITY_SERVER_LIFECYCLE_NICED_THREAD_H_

#include "absl/functional/function_ref.h"

namespace affinity::server {

void RunOnNicedThread(int nice, absl::FunctionRef<void()> fn, bool sched_idle = false);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_LIFECYCLE_NICED_THREAD_H_
