#include "server/lifecycle/niced_thread.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

namespace affinity::server {

void RunOnNicedThread(int nice, absl::FunctionRef<void()> fn) {
  if (nice <= 0) {
    fn();
    return;
  }
  std::thread worker([nice, fn] {
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), nice);
    fn();
  });
  worker.join();
}

}  // namespace affinity::server
