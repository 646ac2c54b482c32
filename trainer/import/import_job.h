// Turns a model trained elsewhere -- the user and item factor tables of a
// Spark MLlib ALSModel, and optionally the interactions it was trained on --
// into a model version, in two steps so that a check (e.g. a quality gate)
// can sit between them:
//   AssembleSparkModel   reads and validates everything and returns the
//                        model as the store will keep it; writes nothing.
//   PublishImportedModel publishes it as a new version (trainer/model_publisher.h).
//
// Errors: those of the factor reader and the interactions reader (bad
// input is InvalidArgument naming FILE:LINE), InvalidArgument when the two
// tables' dims differ or alpha/regularization are unusable, and the store's
// own. Interactions whose user or item is not in the tables are counted in
// ImportedModel, not errors. Nothing is published unless assembly succeeded.
// Not thread-safe per ImportedModel; independent calls may run concurrently.
#ifndef AFFINITY_TRAINER_IMPORT_IMPORT_JOB_H_
#define AFFINITY_TRAINER_IMPORT_IMPORT_JOB_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "affinity/v1/model.pb.h"
#include "trainer/data/csr.h"
#include "trainer/data/interactions_reader.h"
#include "trainer/import/spark_factors_reader.h"
#include "trainer/model_publisher.h"

namespace affinity {

struct SparkImportConfig {
  std::string user_factors;  // directory (or file) of userFactors.write.json
  std::string item_factors;  // directory (or file) of itemFactors.write.json
  // Optional: each user's seen items and the popularity order come from it.
  // Ids are matched as text (Spark's integer ids are written in decimal).
  std::string interactions;
  InteractionReaderOptions reader;
  // What the factors were trained with; the server's fold-in of
  // request-time interactions uses them. Finite and >= 0.
  float alpha = 1.0f;
  float regularization = 0.01f;
  // Recorded in the metadata's parameters (name -> value), beside the
  // input paths, alpha and regularization.
  std::vector<std::pair<std::string, std::string>> parameters;
};

struct ImportedModel {
  FactorTable users;  // score(u, i) = <users.factors.row(u), items.factors.row(i)>
  FactorTable items;
  // users x items; row u holds the items user u interacted with. No entries
  // without interactions.
  CsrMatrix seen;
  // Every item index, most interacting users first (ties: file order);
  // without interactions, the item file order.
  std::vector<uint32_t> popular_items;
  // algorithm "spark_als", dims, factors, users, items, nnz, alpha,
  // regularization, weight_transform, inputs, creation time; version 0.
  affinity::v1::ModelMetadata metadata;

  // Interactions file figures (0 without one). Entries are merged
  // (user, item) pairs as the interactions reader returns them.
  int64_t interaction_entries = 0;   // read
  int64_t entries_dropped = 0;       // user or item not in the tables
  int64_t unknown_users = 0;         // distinct users not in the user table
  int64_t unknown_items = 0;         // distinct items not in the item table

  // A view of this model for PublishModel; valid while this lives.
  TrainedModel AsTrainedModel() const;
};

// Logs one line per step to `log`.
absl::StatusOr<ImportedModel> AssembleSparkModel(const SparkImportConfig& config,
                                                 std::ostream& log);

// Publishes `model` as a new version of the store at `db`; returns its number.
absl::StatusOr<uint64_t> PublishImportedModel(const std::string& db,
                                              const ImportedModel& model);

}  // namespace affinity

#endif  // AFFINITY_TRAINER_IMPORT_IMPORT_JOB_H_
