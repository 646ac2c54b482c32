// Row normalisation shared by every CSR construction path: after a stable
// counting sort has grouped entries by row, this sorts each row by column and
// merges duplicate (row, column) entries in place.
//
// Contract:
//  - Within a row, entries with equal columns are merged into one: values
//    are summed in their original order; the merged timestamp (when
//    timestamps are given) is the largest of the merged ones.
//  - indptr is rewritten for the compacted arrays, which are resized to the
//    new entry count. Returns the number of entries removed by merging.
#ifndef AFFINITY_TRAINER_DATA_CSR_ROWS_H_
#define AFFINITY_TRAINER_DATA_CSR_ROWS_H_

#include <cstdint>
#include <vector>

namespace affinity::csr_internal {

int64_t SortRowsAndMergeDuplicates(std::vector<int64_t>& indptr,
                                   std::vector<uint32_t>& indices,
                                   std::vector<float>& values,
                                   std::vector<int64_t>* timestamps);

// Releases spare capacity when it exceeds an eighth of the size, so that a
// compacted array does not keep memory it will never use.
template <typename T>
void ShrinkIfWasteful(std::vector<T>& v) {
  if (v.capacity() - v.size() > v.size() / 8) v.shrink_to_fit();
}

}  // namespace affinity::csr_internal

#endif  // AFFINITY_TRAINER_DATA_CSR_ROWS_H_
