// ThreadSanitizer annotations for Debian's uninstrumented Abseil
// synchronization library, linked into every binary of the tsan config
// (.bazelrc: --custom_malloc=//tools/tsan:runtime).
//
// Why: absl::Mutex and absl::Notification synchronize with atomics and
// futexes inside libabsl_synchronization.so, which was not built with
// -fsanitize=thread, so TSan sees no happens-before edge between a Mutex
// unlock and the next lock and reports every access under an absl::Mutex
// as a race. These definitions take the place of the library's (the
// executable's symbols come first) and forward to them through
// dlsym(RTLD_NEXT), telling TSan about each lock, unlock and notification
// the way an instrumented Abseil does. Await and LockWhen evaluate their
// Condition between an acquire and a release of the mutex, since Abseil may
// evaluate it on another thread while the mutex is held; CondVar waits
// (gRPC's condition variables are Abseil's) release and reacquire it.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace {

template <class F>
F Real(const char* mangled) {
  void* f = dlsym(RTLD_NEXT, mangled);
  if (f == nullptr) {
    std::fprintf(stderr, "tsan annotations: %s not found in the Abseil library\n", mangled);
    std::abort();
  }
  return reinterpret_cast<F>(f);
}

#define REAL(type, mangled) static const auto real = Real<type>(mangled)

// Set while a wrapper runs the real function: Abseil's own calls between its
// functions (CondVar::WaitWithTimeout calls WaitWithDeadline through the
// library's procedure linkage table, which these definitions interpose too)
// must not be annotated a second time.
thread_local bool inside_real = false;

class InsideReal {
 public:
  InsideReal() { inside_real = true; }
  ~InsideReal() { inside_real = false; }
};

// Runs the real function unannotated when called from inside another one.
#define NESTED_CALL(...)         \
  if (inside_real) return real(__VA_ARGS__)

struct GuardedCondition {
  absl::Mutex* mu;
  const absl::Condition* cond;
};

// Abseil evaluates a condition with the mutex held, on the waiting thread or
// on the one unlocking: what it reads is ordered after the last unlock and
// before the next lock.
bool EvalAfterAcquire(GuardedCondition* g) {
  __tsan_acquire(g->mu);
  const bool result = g->cond->Eval();
  __tsan_release(g->mu);
  return result;
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex4LockEv");
  NESTED_CALL(this);
  __tsan_mutex_pre_lock(this, 0);
  {
    InsideReal inside;
    real(this);
  }
  __tsan_mutex_post_lock(this, 0, 0);
}

void Mutex::Unlock() {
  REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex6UnlockEv");
  NESTED_CALL(this);
  __tsan_mutex_pre_unlock(this, 0);
  {
    InsideReal inside;
    real(this);
  }
  __tsan_mutex_post_unlock(this, 0);
}

bool Mutex::TryLock() {
  REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex7TryLockEv");
  NESTED_CALL(this);
  __tsan_mutex_pre_lock(this, __tsan_mutex_try_lock);
  bool locked;
  {
    InsideReal inside;
    locked = real(this);
  }
  __tsan_mutex_post_lock(this, locked ? __tsan_mutex_try_lock
                                      : __tsan_mutex_try_lock | __tsan_mutex_try_lock_failed,
                         0);
  return locked;
}

void Mutex::ReaderLock() {
  REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex10ReaderLockEv");
  NESTED_CALL(this);
  __tsan_mutex_pre_lock(this, __tsan_mutex_read_lock);
  {
    InsideReal inside;
    real(this);
  }
  __tsan_mutex_post_lock(this, __tsan_mutex_read_lock, 0);
}

void Mutex::ReaderUnlock() {
  REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex12ReaderUnlockEv");
  NESTED_CALL(this);
  __tsan_mutex_pre_unlock(this, __tsan_mutex_read_lock);
  {
    InsideReal inside;
    real(this);
  }
  __tsan_mutex_post_unlock(this, __tsan_mutex_read_lock);
}

// Await and LockWhen: the condition is evaluated inside the real call, on
// this thread or another, with `inside_real` set or not: EvalAfterAcquire
// annotates it itself.
void Mutex::Await(const Condition& cond) {
  REAL(void (*)(Mutex*, const Condition&), "_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE");
  NESTED_CALL(this, cond);
  GuardedCondition guarded{this, &cond};
  const Condition after_acquire(&EvalAfterAcquire, &guarded);
  __tsan_mutex_pre_unlock(this, 0);
  __tsan_mutex_post_unlock(this, 0);
  {
    InsideReal inside;
    real(this, after_acquire);
  }
  __tsan_mutex_pre_lock(this, 0);
  __tsan_mutex_post_lock(this, 0, 0);
}

void Mutex::LockWhen(const Condition& cond) {
  REAL(void (*)(Mutex*, const Condition&), "_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE");
  NESTED_CALL(this, cond);
  GuardedCondition guarded{this, &cond};
  const Condition after_acquire(&EvalAfterAcquire, &guarded);
  __tsan_mutex_pre_lock(this, 0);
  {
    InsideReal inside;
    real(this, after_acquire);
  }
  __tsan_mutex_post_lock(this, 0, 0);
}

void CondVar::Wait(Mutex* mu) {
  REAL(void (*)(CondVar*, Mutex*), "_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE");
  NESTED_CALL(this, mu);
  __tsan_mutex_pre_unlock(mu, 0);
  __tsan_mutex_post_unlock(mu, 0);
  {
    InsideReal inside;
    real(this, mu);
  }
  __tsan_mutex_pre_lock(mu, 0);
  __tsan_mutex_post_lock(mu, 0, 0);
}

bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration timeout) {
  REAL(bool (*)(CondVar*, Mutex*, absl::Duration),
       "_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  NESTED_CALL(this, mu, timeout);
  __tsan_mutex_pre_unlock(mu, 0);
  __tsan_mutex_post_unlock(mu, 0);
  bool timed_out;
  {
    InsideReal inside;
    timed_out = real(this, mu, timeout);
  }
  __tsan_mutex_pre_lock(mu, 0);
  __tsan_mutex_post_lock(mu, 0, 0);
  return timed_out;
}

bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time deadline) {
  REAL(bool (*)(CondVar*, Mutex*, absl::Time),
       "_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  NESTED_CALL(this, mu, deadline);
  __tsan_mutex_pre_unlock(mu, 0);
  __tsan_mutex_post_unlock(mu, 0);
  bool timed_out;
  {
    InsideReal inside;
    timed_out = real(this, mu, deadline);
  }
  __tsan_mutex_pre_lock(mu, 0);
  __tsan_mutex_post_lock(mu, 0, 0);
  return timed_out;
}

void Notification::Notify() {
  REAL(void (*)(Notification*), "_ZN4absl7debian312Notification6NotifyEv");
  __tsan_release(this);
  real(this);
}

void Notification::WaitForNotification() const {
  REAL(void (*)(const Notification*), "_ZNK4absl7debian312Notification19WaitForNotificationEv");
  real(this);
  __tsan_acquire(const_cast<Notification*>(this));
}

bool Notification::WaitForNotificationWithTimeout(absl::Duration timeout) const {
  REAL(bool (*)(const Notification*, absl::Duration),
       "_ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  const bool notified = real(this, timeout);
  if (notified) __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

ABSL_NAMESPACE_END
}  // namespace absl
