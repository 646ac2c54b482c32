#include "server/rules/catalog_view.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include <google/protobuf/util/field_mask_util.h>
#include <google/protobuf/util/message_differencer.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace affinity::server::rules {
namespace {

using affinity::v1::CatalogItem;

// Every stored item. An item equal to `previous`'s record of it is that
// record, shared, not a copy: re-reading an unchanged catalog costs the
// map, not a second copy of every item. *changed: whether the result differs
// from `previous` (always true without one).
absl::StatusOr<std::shared_ptr<CatalogSnapshot>> ReadAll(const storage::CatalogStore& store,
                                                         const CatalogSnapshot* previous,
                                                         bool* changed) {
  auto snapshot = std::make_shared<CatalogSnapshot>();
  if (previous != nullptr) snapshot->items.reserve(previous->items.size());
  size_t reused = 0;
  absl::Status s = store.ForEach([&](const CatalogItem& item) {
    std::shared_ptr<const CatalogItem>& slot = snapshot->items[item.item_id()];
    if (previous != nullptr) {
      auto known = previous->items.find(item.item_id());
      if (known != previous->items.end() &&
          google::protobuf::util::MessageDifferencer::Equals(*known->second, item)) {
        slot = known->second;
        ++reused;
        return absl::OkStatus();
      }
    }
    slot = std::make_shared<const CatalogItem>(item);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  *changed = previous == nullptr || reused != snapshot->items.size() ||
             snapshot->items.size() != previous->items.size();
  return snapshot;
}

}  // namespace

CatalogView::CatalogView(std::string dir, std::unique_ptr<storage::CatalogStore> follower)
    : dir_(std::move(dir)),
      follower_(std::move(follower)),
      current_(std::make_shared<CatalogSnapshot>()) {}

absl::StatusOr<std::unique_ptr<CatalogView>> CatalogView::Open(const std::string& dir) {
  auto store = storage::CatalogStore::Open(dir, storage::CatalogStore::Mode::kFollower);
  if (!store.ok()) return store.status();
  std::unique_ptr<CatalogView> view(new CatalogView(dir, std::move(*store)));
  view->last_fingerprint_ = view->FilesFingerprint();
  bool changed = false;
  auto all = ReadAll(*view->follower_, nullptr, &changed);
  if (!all.ok()) return all.status();
  view->Publish(std::move(*all));
  return view;
}

std::unique_ptr<CatalogView> CatalogView::InMemory(std::vector<CatalogItem> items) {
  std::unique_ptr<CatalogView> view(new CatalogView("", nullptr));
  auto snapshot = std::make_shared<CatalogSnapshot>();
  for (CatalogItem& item : items) {
    std::string id = item.item_id();
    snapshot->items[id] = std::make_shared<const CatalogItem>(std::move(item));
  }
  view->Publish(std::move(snapshot));
  return view;
}

std::shared_ptr<const CatalogSnapshot> CatalogView::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

void CatalogView::Publish(std::shared_ptr<CatalogSnapshot> next,
                          const std::vector<std::string>* changed_ids) {
  std::lock_guard<std::mutex> lock(mu_);
  next->generation = current_->generation + 1;
  next->base_generation = changed_ids == nullptr ? 0 : current_->generation;
  next->changed_ids.clear();
  if (changed_ids != nullptr) next->changed_ids = *changed_ids;
  current_ = std::move(next);
}

std::string CatalogView::FilesFingerprint() const {
  std::vector<std::string> entries;
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator(dir_ + "/catalog", error)) {
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, "LOG")) continue;  // informational logs, not data
    std::error_code e;
    const auto size = entry.is_regular_file(e) ? entry.file_size(e) : 0;
    const auto mtime = entry.last_write_time(e).time_since_epoch().count();
    entries.push_back(absl::StrCat(name, ":", size, ":", mtime));
  }
  std::sort(entries.begin(), entries.end());
  return absl::StrJoin(entries, ";");
}

absl::StatusOr<bool> CatalogView::Refresh(bool force) {
  if (follower_ == nullptr) return false;
  std::lock_guard<std::mutex> write_lock(write_mu_);
  std::string fingerprint = FilesFingerprint();
  if (!force && fingerprint == last_fingerprint_) return false;
  if (absl::Status s = follower_->Refresh(); !s.ok()) return s;
  bool changed = false;
  auto all = ReadAll(*follower_, snapshot().get(), &changed);
  if (!all.ok()) return all.status();
  last_fingerprint_ = std::move(fingerprint);
  if (!changed) return false;
  Publish(std::move(*all));
  return true;
}

absl::StatusOr<std::unique_ptr<storage::CatalogStore>> CatalogView::OpenWriter() const {
  // Only the catalog this view reads: opening a deleted one would create an
  // empty catalog holding just this write, and one created again since is
  // not what the server serves.
  if (absl::Status s = follower_->CheckSameDatabase(); !s.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("nothing written: ", s.message()));
  }
  storage::CatalogStoreOptions options;
  options.expected_identity = follower_->identity();
  auto store =
      storage::CatalogStore::Open(dir_, storage::CatalogStore::Mode::kReadWrite, options);
  if (absl::IsFailedPrecondition(store.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat("nothing written: ", store.status().message()));
  }
  if (absl::IsUnavailable(store.status())) {
    return absl::UnavailableError(absl::StrCat(
        "catalog is busy, retry (another process is writing ", dir_, "/catalog: ",
        store.status().message(), ")"));
  }
  return store;
}

absl::StatusOr<int64_t> CatalogView::Upsert(absl::Span<const CatalogItem> items) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].item_id().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("items[", i, "].item_id: must not be empty"));
    }
    if (absl::Status s = storage::CheckCatalogItem(items[i]); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("items[", i, "].", s.message()));
    }
  }
  std::lock_guard<std::mutex> write_lock(write_mu_);
  if (!dir_.empty()) {
    // Unread writes by others are left for the poll to read (with ours).
    const bool up_to_date = FilesFingerprint() == last_fingerprint_;
    auto writer = OpenWriter();
    if (!writer.ok()) return writer.status();
    if (absl::Status s = (*writer)->Upsert(items); !s.ok()) return s;
    writer->reset();  // closing the store tidies its files
    // The files now hold exactly this write: the poll need not re-read it.
    if (up_to_date) last_fingerprint_ = FilesFingerprint();
  }
  auto next = std::make_shared<CatalogSnapshot>(*snapshot());
  std::vector<std::string> changed;
  for (const CatalogItem& item : items) {
    next->items[item.item_id()] = std::make_shared<const CatalogItem>(item);
    changed.push_back(item.item_id());
  }
  Publish(std::move(next), &changed);
  return static_cast<int64_t>(items.size());
}

absl::StatusOr<storage::CatalogWriteCounts> CatalogView::Patch(
    absl::Span<const storage::CatalogPatch> patches) {
  using google::protobuf::util::FieldMaskUtil;
  std::vector<std::string> ids;  // distinct, first-seen order
  absl::flat_hash_map<absl::string_view, std::vector<size_t>> patches_of;
  for (size_t i = 0; i < patches.size(); ++i) {
    const storage::CatalogPatch& patch = patches[i];
    if (!FieldMaskUtil::IsValidFieldMask<CatalogItem>(patch.fields)) {
      return absl::InvalidArgumentError(
          absl::StrCat("patches[", i, "].fields: '", FieldMaskUtil::ToString(patch.fields),
                       "', expected CatalogItem field names"));
    }
    if (absl::Status s = storage::CheckCatalogItem(patch.item); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("patches[", i, "].", s.message()));
    }
    auto [it, inserted] = patches_of.try_emplace(patch.item.item_id());
    if (inserted) ids.push_back(patch.item.item_id());
    it->second.push_back(i);
  }
  std::lock_guard<std::mutex> write_lock(write_mu_);
  std::shared_ptr<const CatalogSnapshot> current = snapshot();
  storage::CatalogWriteCounts counts;
  std::vector<CatalogItem> written;  // one per id, as stored now
  if (!dir_.empty()) {
    // Unread writes by others are left for the poll to read (with ours).
    const bool up_to_date = FilesFingerprint() == last_fingerprint_;
    auto writer = OpenWriter();
    if (!writer.ok()) return writer.status();
    absl::StatusOr<storage::CatalogWriteCounts> done = (*writer)->Patch(patches);
    if (!done.ok()) return done.status();
    counts = *done;
    auto stored = (*writer)->GetMany(ids);
    if (!stored.ok()) return stored.status();
    writer->reset();  // closing the store tidies its files
    if (up_to_date) last_fingerprint_ = FilesFingerprint();
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!(*stored)[i].has_value()) {
        return absl::InternalError(absl::StrCat("item '", ids[i], "' is not stored after its write"));
      }
      written.push_back(*std::move((*stored)[i]));
    }
  } else {
    for (const std::string& id : ids) {
      const CatalogItem* before = current->Find(id);
      CatalogItem item = before != nullptr ? *before : storage::NewCatalogItem(id);
      for (size_t p : patches_of[id]) storage::ApplyCatalogPatch(patches[p], &item);
      if (before == nullptr) {
        ++counts.added;
      } else if (google::protobuf::util::MessageDifferencer::Equals(*before, item)) {
        ++counts.unchanged;
      } else {
        ++counts.updated;
      }
      written.push_back(std::move(item));
    }
  }
  // What the snapshot holds already (unchanged, or written by another
  // process and read by a poll) needs no new snapshot.
  std::vector<std::string> changed;
  for (const CatalogItem& item : written) {
    const CatalogItem* held = current->Find(item.item_id());
    if (held == nullptr || !google::protobuf::util::MessageDifferencer::Equals(*held, item)) {
      changed.push_back(item.item_id());
    }
  }
  if (changed.empty()) return counts;
  auto next = std::make_shared<CatalogSnapshot>(*current);
  for (CatalogItem& item : written) {
    std::string id = item.item_id();
    next->items[id] = std::make_shared<const CatalogItem>(std::move(item));
  }
  Publish(std::move(next), &changed);
  return counts;
}

absl::StatusOr<int64_t> CatalogView::Delete(absl::Span<const std::string> item_ids) {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  auto next = std::make_shared<CatalogSnapshot>(*snapshot());
  int64_t removed = 0;
  for (const std::string& id : item_ids) removed += next->items.erase(id);
  if (!dir_.empty()) {
    const bool up_to_date = FilesFingerprint() == last_fingerprint_;
    auto writer = OpenWriter();
    if (!writer.ok()) return writer.status();
    auto deleted = (*writer)->Delete(item_ids);
    if (!deleted.ok()) return deleted.status();
    removed = *deleted;
    writer->reset();
    if (up_to_date) last_fingerprint_ = FilesFingerprint();
  }
  const std::vector<std::string> changed(item_ids.begin(), item_ids.end());
  Publish(std::move(next), &changed);
  return removed;
}

}  // namespace affinity::server::rules
