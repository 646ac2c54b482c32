// What a publish stores beside the model itself (trainer/model_publisher.h).
// A plain struct; no functions.
#ifndef AFFINITY_TRAINER_PUBLISH_OPTIONS_H_
#define AFFINITY_TRAINER_PUBLISH_OPTIONS_H_

#include <string>

namespace affinity {

struct PublishOptions {
  // "" (none), "hnsw" or "ivf": an HNSW graph or the IVF lists of the item
  // vectors, with the server's default parameters (server/scoring/scorer.h),
  // stored with the version (server/scoring/hnsw_index_io.h,
  // ivf_index_io.h) so that servers load it instead of building it.
  std::string build_index;
  // Threads building the index; 0: one per core.
  int index_threads = 0;
};

}  // namespace affinity

#endif  // AFFINITY_TRAINER_PUBLISH_OPTIONS_H_
