#include "trainer/model_publisher.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/model_store.h"

namespace affinity {
namespace {

// Sorted union of the user's row in every matrix of `seen`.
void SeenItems(const std::vector<const CsrMatrix*>& seen, int64_t user,
               std::vector<uint32_t>* out) {
  out->clear();
  for (const CsrMatrix* m : seen) {
    auto row = m->row(user);
    out->insert(out->end(), row.indices.begin(), row.indices.end());
  }
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
}

absl::Status CheckShapes(const TrainedModel& m) {
  if (!m.user_ids || !m.item_ids || !m.users || !m.items) {
    return absl::InvalidArgumentError("PublishModel: incomplete TrainedModel");
  }
  if (m.users->rows() != static_cast<int64_t>(m.user_ids->size()) ||
      m.items->rows() != static_cast<int64_t>(m.item_ids->size()) ||
      m.users->cols() != m.items->cols()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PublishModel: shapes disagree: ", m.user_ids->size(), " user ids, ",
        m.users->rows(), "x", m.users->cols(), " user factors, ",
        m.item_ids->size(), " item ids, ", m.items->rows(), "x",
        m.items->cols(), " item factors"));
  }
  for (const CsrMatrix* s : m.seen) {
    if (s->rows() != m.users->rows() || s->cols() != m.items->rows()) {
      return absl::InvalidArgumentError("PublishModel: seen matrix shape");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckModelSize(int64_t users, int64_t items) {
  for (const auto& [count, what] : {std::pair<int64_t, const char*>{users, "user"}, {items, "item"}}) {
    if (count > storage::kMaxIdsPerVersion) {
      return absl::InvalidArgumentError(
          absl::StrCat(count, " distinct ", what, " ids, expected at most ",
                       storage::kMaxIdsPerVersion, " (2^31) per model version"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPublishTarget(const std::string& db) {
  absl::Status s = storage::CheckStoreWritable(db);
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat("--db: ", s.message()));
}

absl::StatusOr<uint64_t> PublishModel(const std::string& db,
                                      const TrainedModel& model,
                                      affinity::v1::ModelMetadata metadata) {
  if (absl::Status s = CheckShapes(model); !s.ok()) return s;
  auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kReadWrite);
  if (!store.ok()) return store.status();
  auto writer = (*store)->CreateVersion();
  if (!writer.ok()) return writer.status();

  const int64_t dims = model.users->cols();
  for (int64_t i = 0; i < model.items->rows(); ++i) {
    absl::Status s = (*writer)->AddItem(
        static_cast<uint32_t>(i), (*model.item_ids)[i],
        absl::MakeConstSpan(model.items->row(i).data(), dims));
    if (!s.ok()) return s;
  }
  std::vector<uint32_t> seen;
  for (int64_t u = 0; u < model.users->rows(); ++u) {
    SeenItems(model.seen, u, &seen);
    absl::Status s = (*writer)->AddUser(
        static_cast<uint32_t>(u), (*model.user_ids)[u],
        absl::MakeConstSpan(model.users->row(u).data(), dims), seen);
    if (!s.ok()) return s;
  }
  if (absl::Status s = (*writer)->SetPopularItems(model.popular_items); !s.ok()) {
    return s;
  }
  metadata.set_dims(static_cast<int32_t>(dims));
  metadata.set_users(model.users->rows());
  metadata.set_items(model.items->rows());
  const uint64_t version = (*writer)->version();
  if (absl::Status s = (*writer)->Publish(std::move(metadata)); !s.ok()) return s;
  return version;
}

}  // namespace affinity
