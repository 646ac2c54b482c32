#include "tests/storage/test_dir.h"

#include <cstdlib>
#include <memory>

#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/keys.h"

namespace affinity::storage::testing {

std::string MakeTestDir() {
  const char* root = std::getenv("TEST_TMPDIR");
  std::string pattern = std::string(root && *root ? root : "/tmp") + "/storeXXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  EXPECT_NE(mkdtemp(buffer.data()), nullptr) << pattern;
  return buffer.data();
}

std::vector<std::string> RawKeys(const std::string& db_path,
                                 const std::string& begin,
                                 const std::string& end) {
  std::vector<std::string> keys;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status =
      rocksdb::DB::OpenForReadOnly(rocksdb::Options(), db_path, &raw);
  EXPECT_TRUE(status.ok()) << status.ToString();
  if (!status.ok()) return keys;
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options));
  for (it->Seek(begin); it->Valid(); it->Next()) keys.push_back(it->key().ToString());
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return keys;
}

void EditStoredMetadata(const std::string& dir, uint64_t version,
                        const std::function<void(affinity::v1::ModelMetadata&)>& edit) {
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(rocksdb::Options(), dir + "/models", &raw);
  ASSERT_TRUE(status.ok()) << status.ToString();
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value;
  status = db->Get(rocksdb::ReadOptions(), keys::Published(version), &value);
  ASSERT_TRUE(status.ok()) << "version " << version << ": " << status.ToString();
  affinity::v1::ModelMetadata metadata;
  ASSERT_TRUE(metadata.ParseFromString(value));
  edit(metadata);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  status = db->Put(sync, keys::Published(version), metadata.SerializeAsString());
  ASSERT_TRUE(status.ok()) << status.ToString();
}

}  // namespace affinity::storage::testing
