// The model lifecycle's events in the log and the metrics: every version
// loaded (an arm's or the shadow's), every arm switch, every new routing
// table (arms, shares, revision, what was left out), load failures and
// changes of the polling outcome. Attach before polling starts.
#ifndef AFFINITY_SERVER_LIFECYCLE_MODEL_LOGGING_H_
#define AFFINITY_SERVER_LIFECYCLE_MODEL_LOGGING_H_

#include "server/lifecycle/model_manager.h"
#include "server/observability/arm_metrics.h"
#include "server/observability/metrics.h"

namespace affinity::server {

// All pointers must outlive `models`' polling. poll_ms only words the log.
void AttachModelLogging(ModelManager* models, ServerMetrics* metrics, ArmMetrics* arm_metrics,
                        int poll_ms);

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_LIFECYCLE_MODEL_LOGGING_H_
