#include "server/background_work.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/observability/log.h"

namespace affinity::server {

BackgroundWork::BackgroundWork(BackgroundWorkParts parts) : parts_(std::move(parts)) {
  using Clock = std::chrono::steady_clock;
  auto next_full_read = std::make_shared<Clock::time_point>(Clock::now() + std::chrono::minutes(5));
  auto next_rules_check = std::make_shared<Clock::time_point>(Clock::now());
  auto last_error = std::make_shared<std::string>();  // logged once, not at every poll
  catalog_and_rules_ = std::make_unique<PeriodicTask>(
      parts_.catalog_poll, [this, next_full_read, next_rules_check, last_error] {
        const auto now = Clock::now();
        // A full re-read every 5 minutes is the safety net of the cheap
        // change detection.
        const bool full = now >= *next_full_read;
        if (full) *next_full_read = now + std::chrono::minutes(5);
        absl::StatusOr<bool> changed = parts_.catalog->Refresh(full);
        const std::string error = changed.ok() ? "" : changed.status().ToString();
        if (error != *last_error && !error.empty()) {
          LogLine(absl::StrCat("catalog refresh failed: ", error));
        }
        *last_error = error;
        if (changed.ok() && *changed && parts_.catalog_changed) {
          parts_.catalog_changed();
        }
        if (now >= *next_rules_check) {
          parts_.rules_watcher->Check(false);
          *next_rules_check = now + std::chrono::seconds(1);
        }
      });
  if (parts_.outcomes != nullptr) {
    auto next_retention = std::make_shared<Clock::time_point>(Clock::now());
    events_ = std::make_unique<PeriodicTask>(std::chrono::seconds(1), [this, next_retention] {
      if (absl::Status s = parts_.outcomes->Flush(); !s.ok()) {
        LogLine(absl::StrCat("request counts not stored yet: ", s.ToString()));
      }
      if (Clock::now() >= *next_retention) {
        *next_retention = Clock::now() + std::chrono::hours(1);
        if (absl::Status s = parts_.events->ApplyRetention(absl::Now()); !s.ok()) {
          LogLine(absl::StrCat("events retention failed: ", s.ToString()));
        }
      }
    });
  }
  if (parts_.autopilot != nullptr) {
    autopilot_ = std::make_unique<PeriodicTask>(parts_.autopilot_period, [this] {
      if (absl::Status s = parts_.autopilot_store->Refresh(); !s.ok()) return;
      absl::StatusOr<std::string> done = parts_.autopilot->RunOnce();
      if (!done.ok()) {
        LogLine(absl::StrCat("autopilot: ", done.status().ToString()));
      } else if (!done->empty()) {
        LogLine(*done);
      }
    });
  }
}

void BackgroundWork::Stop() {
  autopilot_.reset();
  catalog_and_rules_.reset();
  events_.reset();
  if (parts_.outcomes != nullptr) (void)parts_.outcomes->Flush();
}

}  // namespace affinity::server
