// Backing large arrays with transparent huge pages, which cuts the number of
// page faults taken on first touch by up to 512x. Purely a performance hint:
// where the kernel does not support it, nothing changes.
#ifndef AFFINITY_TRAINER_DATA_HUGE_PAGES_H_
#define AFFINITY_TRAINER_DATA_HUGE_PAGES_H_

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

namespace affinity {

// Advises the 2 MiB-aligned part of [data, data + bytes) for huge pages, if
// bytes is at least a few MiB. Call before the memory is first written.
void AdviseHugePages(void* data, size_t bytes);

// Resizes an empty vector to n value-initialised elements, advising its
// storage for huge pages before it is touched.
template <typename T>
void ResizeWithHugePages(std::vector<T>& v, size_t n) {
  v.reserve(n);
  AdviseHugePages(v.data(), n * sizeof(T));
  v.resize(n);
}

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// An uninitialised array of trivial elements, 2 MiB-aligned and advised for
// huge pages when large. Never null: throws std::bad_alloc like new[].
template <typename T>
using HugeArray = std::unique_ptr<T[], FreeDeleter>;

void* AllocateHugeBytes(size_t bytes);

template <typename T>
HugeArray<T> AllocateHugeArray(size_t n) {
  static_assert(std::is_trivial<T>::value, "elements stay uninitialised");
  return HugeArray<T>(static_cast<T*>(AllocateHugeBytes(n * sizeof(T))));
}

}  // namespace affinity

#endif  // AFFINITY_TRAINER_DATA_HUGE_PAGES_H_
