// synthetic_store: writes a synthetic model version and item catalog into a
// store directory, for load tests of affinity-server at catalog sizes the
// bundled data do not reach (e.g. 1M items with business rules).
//
//   synthetic_store --db=DIR [--items=1000000] [--users=1000] [--dims=64]
//                   [--build_index=hnsw|ivf] [--index_threads=2]
//
// Items are "i0" .. "i<items - 1>", users "u1" .. "u<users>" (1-based, as
// tools/loadgen --user_prefix=u generates them). Item vectors are clustered
// like ALS factors (256 topic directions plus noise); every user has 20 seen
// items. Catalog of item i<N>: brand "brand<N % 8>", category
// "cat<(N / 8) % 10>" (each 10% of the items), tag "t<N % 100>" (each 1%), in
// stock except every 50th item, created_at spread over 2000..2020.
// --build_index=hnsw stores the items' HNSW graph, --build_index=ivf their
// IVF lists (the server's default parameters) with the version, as
// affinity-train does.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "affinity/v1/model.pb.h"
#include "server/scoring/index_to_store.h"
#include "server/scoring/item_matrix.h"
#include "server/scoring/scorer.h"
#include "storage/catalog_store.h"
#include "storage/model_store.h"

ABSL_FLAG(std::string, db, "", "Store directory to write (required).");
ABSL_FLAG(int, items, 1000000, "Number of items.");
ABSL_FLAG(int, users, 1000, "Number of users.");
ABSL_FLAG(int, dims, 64, "Vector length.");
ABSL_FLAG(std::string, build_index, "",
          "hnsw: store the items' HNSW graph with the version; ivf: their IVF lists.");
ABSL_FLAG(int, index_threads, 2, "Threads building the index.");

namespace affinity::server {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "synthetic_store: %s\n", status.ToString().c_str());
  return 1;
}

int Run() {
  const std::string db = absl::GetFlag(FLAGS_db);
  const int items = absl::GetFlag(FLAGS_items);
  const int users = absl::GetFlag(FLAGS_users);
  const int dims = absl::GetFlag(FLAGS_dims);
  const std::string build_index = absl::GetFlag(FLAGS_build_index);
  if (db.empty() || items < 100 || users < 1 || dims < 1 ||
      (!build_index.empty() && build_index != "hnsw" && build_index != "ivf")) {
    std::fprintf(stderr, "usage: synthetic_store --db=DIR [--items>=100] [--users>=1] [--dims>=1] "
                 "[--build_index=hnsw|ivf]\n");
    return 2;
  }
  auto store = storage::ModelStore::Open(db, storage::ModelStore::Mode::kReadWrite);
  if (!store.ok()) return Fail(store.status());
  auto writer = (*store)->CreateVersion();
  if (!writer.ok()) return Fail(writer.status());
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> topic(0, 255);
  std::vector<std::vector<float>> topics(256, std::vector<float>(dims));
  for (auto& t : topics)
    for (float& v : t) v = normal(rng);
  std::vector<float> v(dims);
  std::vector<float> dense;
  if (!build_index.empty()) dense.reserve(static_cast<size_t>(items) * dims);
  for (int i = 0; i < items; ++i) {
    const auto& t = topics[topic(rng)];
    for (int d = 0; d < dims; ++d) v[d] = 0.1f * (t[d] + 0.5f * normal(rng));
    if (absl::Status s = (*writer)->AddItem(i, absl::StrCat("i", i), v); !s.ok()) return Fail(s);
    if (!build_index.empty()) dense.insert(dense.end(), v.begin(), v.end());
  }
  if (!build_index.empty()) {
    const auto start = std::chrono::steady_clock::now();
    std::shared_ptr<const ItemMatrix> matrix = ItemMatrix::FromDense(dense, items, dims);
    ScorerOptions options;
    options.kind = build_index == "hnsw" ? ScorerKind::kHnsw : ScorerKind::kIvf;
    options.build_threads = absl::GetFlag(FLAGS_index_threads);
    auto index = BuildIndexToStore(matrix, storage::ItemVectorsSha256(dense), options);
    if (!index.ok()) return Fail(index.status());
    index->header.set_build_seconds(SecondsSince(start));  // the copy and the hash too
    auto index_writer = (*writer)->CreateIndexWriter(index->header);
    if (!index_writer.ok()) return Fail(index_writer.status());
    auto stored = index->write(**index_writer);
    if (!stored.ok()) return Fail(stored.status());
    std::printf("index %s/%s built in %.1f s, %llu bytes\n", stored->kind().c_str(),
                stored->params().c_str(), stored->build_seconds(),
                static_cast<unsigned long long>(stored->blob_bytes()));
    dense = std::vector<float>();
  }
  std::uniform_int_distribution<uint32_t> any_item(0, items - 1);
  for (int u = 0; u < users; ++u) {
    const auto& a = topics[topic(rng)];
    for (int d = 0; d < dims; ++d) v[d] = a[d] + 0.3f * normal(rng);
    std::vector<uint32_t> seen;
    for (int s = 0; s < 20; ++s) seen.push_back(any_item(rng));
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    if (absl::Status s = (*writer)->AddUser(u, absl::StrCat("u", u + 1), v, seen); !s.ok()) {
      return Fail(s);
    }
  }
  std::vector<uint32_t> popular;
  for (uint32_t i = 0; i < 1000 && i < static_cast<uint32_t>(items); ++i) popular.push_back(i);
  if (absl::Status s = (*writer)->SetPopularItems(popular); !s.ok()) return Fail(s);
  affinity::v1::ModelMetadata metadata;
  metadata.set_algorithm("implicit_als_cg");
  metadata.set_dims(dims);
  metadata.set_factors(dims);
  metadata.set_users(users);
  metadata.set_items(items);
  metadata.set_alpha(1);
  metadata.set_regularization(0.1f);
  metadata.set_weight_transform("raw");
  const uint64_t version = (*writer)->version();
  if (absl::Status s = (*writer)->Publish(metadata); !s.ok()) return Fail(s);
  writer->reset();
  store->reset();

  auto catalog = storage::CatalogStore::Open(db, storage::CatalogStore::Mode::kReadWrite);
  if (!catalog.ok()) return Fail(catalog.status());
  std::vector<affinity::v1::CatalogItem> batch;
  const int64_t y2000 = 946684800;
  for (int i = 0; i < items; ++i) {
    affinity::v1::CatalogItem item;
    item.set_item_id(absl::StrCat("i", i));
    item.set_title(absl::StrCat("item ", i));
    item.add_categories(absl::StrCat("cat", (i / 8) % 10));
    item.set_brand(absl::StrCat("brand", i % 8));
    item.add_tags(absl::StrCat("t", i % 100));
    item.set_price(1 + i % 100);
    item.set_in_stock(i % 50 != 0);
    item.set_created_at_unix(y2000 + int64_t{i % 7300} * 86400);
    batch.push_back(std::move(item));
    if (batch.size() == 100000 || i + 1 == items) {
      if (absl::Status s = (*catalog)->Upsert(batch); !s.ok()) return Fail(s);
      batch.clear();
    }
  }
  std::printf("published version %llu: %d items x %d dims, %d users; catalog %d items\n",
              static_cast<unsigned long long>(version), items, dims, users, items);
  return 0;
}

}  // namespace
}  // namespace affinity::server

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return affinity::server::Run();
}
