#include "server/lifecycle/model_logging.h"

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/observability/log.h"

namespace affinity::server {

void AttachModelLogging(ModelManager* models, ServerMetrics* metrics, ArmMetrics* arm_metrics,
                        int poll_ms) {
  models->AddLoadListener([metrics](const LoadedModel& model) {
    std::string index;
    if (model.index_source == "loaded") {
      index = absl::StrFormat(" (index loaded from the store in %.3f s)", model.index_seconds);
    } else if (!model.index_source.empty()) {
      index = absl::StrFormat(" (index %s in %.3f s; stored index: %s)", model.index_source,
                              model.index_seconds, model.index_note);
    }
    LogLine(absl::StrFormat(
        "model loaded: version %d, algorithm %s, users %d, items %d, dims %d, scorer %s%s, "
        "load time %.3f s",
        model.version, model.metadata.algorithm(), model.metadata.users(),
        model.metadata.items(), model.metadata.dims(), model.scorer->name(), index,
        model.load_seconds));
    metrics->RecordModelLoad(model.version, model.load_seconds);
  });
  models->AddSwapListener([](const std::string& arm, const LoadedModel& model, uint64_t previous) {
    LogLine(absl::StrFormat("arm %s now serves version %d (was %d)", arm, model.version,
                            previous));
  });
  models->AddRoutingListener(
      [metrics, arm_metrics](const RoutingTable& table, const std::vector<std::string>& warnings) {
        LogLine(absl::StrCat("routing (rollout revision ", table.revision(), "): ",
                             table.Describe()));
        for (const std::string& w : warnings) LogLine(absl::StrCat("rollout: ", w));
        std::map<std::string, uint64_t> serving;
        std::vector<std::tuple<std::string, uint64_t, int32_t>> shares;
        for (const ArmServable& arm : table.arms()) {
          serving[arm.name] = arm.version;
          shares.emplace_back(arm.name, arm.version, arm.basis_points);
        }
        metrics->SetLoadedModels(serving);
        arm_metrics->SetRollout(table.revision(), shares);
      });
  models->AddFailureListener([metrics](uint64_t version, const absl::Status& status) {
    LogLine(absl::StrCat("model version ", version, " failed to load: ", status.ToString()));
    metrics->AddModelLoadFailure();
  });
  // Logs when the polling outcome changes, not at every poll.
  auto last = std::make_shared<absl::StatusCode>(absl::StatusCode::kOk);
  models->SetPollListener([last, poll_ms](const absl::Status& status) {
    if (status.code() == *last) return;
    *last = status.code();
    if (absl::IsNotFound(status)) {
      LogLine(absl::StrCat("no model can serve yet (", status.message(), "); polling every ",
                           poll_ms, " ms"));
    } else if (!status.ok() && !absl::IsCancelled(status)) {
      LogLine(absl::StrCat("model poll failed: ", status.ToString()));
    }
  });
}

}  // namespace affinity::server
