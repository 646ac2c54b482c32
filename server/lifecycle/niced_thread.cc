#include "server/lifecycle/niced_thread.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

namespace affinity::server {

void RunOnNicedThread(int nice, absl::FunctionRef<void()> fn, bool sched_idle) {
  if (nice <= 0 && !sched_idle) {
    fn();
    return;
  }
  std::thread worker([nice, fn, sched_idle] {
    const id_t self = static_cast<id_t>(syscall(SYS_gettid));
    errno = 0;
    const int inherited = getpriority(PRIO_PROCESS, self);
    if (errno == 0 && nice > inherited) setpriority(PRIO_PROCESS, self, nice);
    if (sched_idle) {
      sched_param param{};
      param.sched_priority = 0;
      sched_setscheduler(0, SCHED_IDLE, &param);  // 0: this thread
    }
    fn();
  });
  worker.join();
}

}  // namespace affinity::server
