// BackgroundWork: the server's periodic duties besides model polling, each
// on its own thread: catalog refresh (a failure is logged when it first
// occurs, not at every poll) and rules-file checks (catalog_poll),
// the per-arm request counts flushed to the events store every second
// with the events retention hourly, and the canary autopilot. Stop (or
// destruction) ends them all; nothing it calls may throw.
#ifndef AFFINITY_SERVER_BACKGROUND_WORK_H_
#define AFFINITY_SERVER_BACKGROUND_WORK_H_

#include <chrono>
#include <functional>
#include <memory>

#include "server/lifecycle/periodic_task.h"
#include "server/rollout/autopilot.h"
#include "server/rollout/outcome_recorder.h"
#include "server/rules/catalog_view.h"
#include "server/rules/rules_file_watcher.h"
#include "storage/event_store.h"
#include "storage/model_store.h"

namespace affinity::server {

struct BackgroundWorkParts {
  rules::CatalogView* catalog = nullptr;            // required
  rules::RulesFileWatcher* rules_watcher = nullptr;  // required
  std::function<void()> catalog_changed;            // e.g. re-prepare the rules
  std::chrono::milliseconds catalog_poll{500};
  OutcomeRecorder* outcomes = nullptr;              // null: no events store
  storage::EventStore* events = nullptr;            // with outcomes
  rollout::Autopilot* autopilot = nullptr;          // null: no autopilot
  storage::ModelStore* autopilot_store = nullptr;   // the autopilot's follower
  std::chrono::seconds autopilot_period{10};
};

class BackgroundWork {
 public:
  // Starts the threads; every pointer must outlive Stop.
  explicit BackgroundWork(BackgroundWorkParts parts);
  ~BackgroundWork() { Stop(); }

  // Ends the autopilot and the catalog and rules work, then flushes the
  // request counts one last time.
  void Stop();

 private:
  BackgroundWorkParts parts_;
  std::unique_ptr<PeriodicTask> catalog_and_rules_;
  std::unique_ptr<PeriodicTask> events_;
  std::unique_ptr<PeriodicTask> autopilot_;
};

}  // namespace affinity::server

#endif  // AFFINITY_SERVER_BACKGROUND_WORK_H_
