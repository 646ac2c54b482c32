#include "server/rpc/recommender_service.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/random/random.h"
#include "server/observability/log.h"
#include "server/rpc/explanations.h"
#include "server/rpc/request_id.h"
#include "server/scoring/fold_in.h"
#include "server/scoring/top_k.h"

namespace affinity::server {
namespace {

grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

// DEADLINE_EXCEEDED when the client's deadline has passed or it cancelled.
// A null context (shadow scoring) has no deadline.
absl::Status CheckDeadline(grpc::ServerContext* context) {
  if (context == nullptr) return absl::OkStatus();
  if (context->IsCancelled()) return absl::CancelledError("request cancelled by the client");
  if (context->deadline() <= std::chrono::system_clock::now()) {
    return absl::DeadlineExceededError("deadline exceeded before scoring");
  }
  return absl::OkStatus();
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The request's deadline for the batcher; none for a null context (shadow
// scoring) or a call without one.
std::chrono::system_clock::time_point DeadlineOf(grpc::ServerContext* context) {
  return context == nullptr ? std::chrono::system_clock::time_point::max() : context->deadline();
}

}  // namespace

RecommenderService::RecommenderService(ModelManager* models, ServerMetrics* metrics,
                                       MicroBatcher* batcher, RequestLimits limits,
                                       const RuleSetRegistry* rule_sets,
                                       rules::RuleEngine* rules, rules::RuleMetrics* rule_metrics)
    : models_(models),
      rules_(rules),
      rule_metrics_(rule_metrics),
      metrics_(metrics),
      batcher_(batcher),
      limits_(limits),
      rule_sets_(rule_sets) {}

grpc::Status RecommenderService::Recommend(grpc::ServerContext* context,
                                           const affinity::v1::RecommendRequest* request,
                                           affinity::v1::RecommendResponse* response) {
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<ModelManager::Route> route = absl::UnavailableError("not routed");
  absl::Status status = ValidateRecommendRequest(*request, limits_, *rule_sets_);
  if (status.ok()) {
    const std::string& unit =
        request->user_id().empty() ? request->session_id() : request->user_id();
    route = models_->RouteRequest(unit, request->arm());
    status = route.status();
  }
  if (status.ok()) {
    status = DoRecommend(context, *request, *route->model, /*shadow=*/false, response);
  }
  if (status.ok()) {
    response->set_model_version(route->model->version);
    response->set_arm(route->arm);
    response->set_request_id(MakeRequestId(route->model->version, route->arm, route->forced));
  } else {
    response->Clear();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_->RecordRequest(ServerMetrics::kRecommend, static_cast<int>(status.code()), seconds);
  if (status.ok() && response->fallback()) metrics_->AddFallback();
  if (route.ok()) {
    if (arm_metrics_ != nullptr) {
      arm_metrics_->RecordRequest(route->arm, route->model->version, route->forced,
                                  static_cast<int>(status.code()), seconds,
                                  status.ok() && response->fallback(),
                                  status.ok() && response->items_size() == 0);
    }
    if (status.ok() && outcomes_ != nullptr) {
      outcomes_->CountRequest(route->arm, route->model->version, route->forced);
    }
    if (status.ok() && shadow_ != nullptr) {
      std::shared_ptr<const RoutingTable> table = models_->routing();
      thread_local absl::BitGen random;
      if (table != nullptr && table->shadow() != nullptr &&
          absl::Uniform<int32_t>(random, 0, 10000) < table->shadow_basis_points()) {
        SubmitShadow(table->shadow(), *request, *response);
      }
    }
  }
  return ToGrpc(status);
}

void RecommenderService::SubmitShadow(std::shared_ptr<const LoadedModel> shadow,
                                      const affinity::v1::RecommendRequest& request,
                                      const affinity::v1::RecommendResponse& served) {
  auto copy = std::make_shared<affinity::v1::RecommendRequest>(request);
  copy->set_explain(false);
  std::vector<std::string> served_ids;
  for (const auto& item : served.items()) served_ids.push_back(item.item_id());
  const uint64_t version = shadow->version;
  const bool queued = shadow_->TrySubmit(
      [this, shadow = std::move(shadow), copy, served_ids = std::move(served_ids)]() {
        const auto start = std::chrono::steady_clock::now();
        affinity::v1::RecommendResponse answer;
        absl::Status s = DoRecommend(nullptr, *copy, *shadow, /*shadow=*/true, &answer);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (arm_metrics_ == nullptr) return;
        if (!s.ok()) {
          arm_metrics_->AddShadowFailed(shadow->version);
          return;
        }
        std::vector<std::string> ids;
        for (const auto& item : answer.items()) ids.push_back(item.item_id());
        arm_metrics_->RecordShadow(shadow->version, seconds,
                                   rollout::OverlapAtK(served_ids, ids));
      });
  if (!queued && arm_metrics_ != nullptr) arm_metrics_->AddShadowDropped(version);
}

grpc::Status RecommenderService::ReportOutcome(grpc::ServerContext* context,
                                               const affinity::v1::ReportOutcomeRequest* request,
                                               affinity::v1::ReportOutcomeResponse* response) {
  (void)context;
  absl::Status status = ValidateOutcomeRequest(*request, limits_);
  if (status.ok() && outcomes_ == nullptr) {
    status = absl::UnavailableError("this server keeps no events store (see --events)");
  }
  if (status.ok()) {
    absl::StatusOr<affinity::v1::ReportOutcomeResponse> recorded = outcomes_->Record(*request);
    if (recorded.ok()) {
      *response = *std::move(recorded);
    } else {
      status = recorded.status();
    }
  }
  return ToGrpc(status);
}

grpc::Status RecommenderService::SimilarItems(
    grpc::ServerContext* context, const affinity::v1::SimilarItemsRequest* request,
    affinity::v1::RecommendResponse* response) {
  const auto start = std::chrono::steady_clock::now();
  absl::Status status = DoSimilarItems(context, *request, response);
  if (!status.ok()) response->Clear();
  metrics_->RecordRequest(
      ServerMetrics::kSimilarItems, static_cast<int>(status.code()),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return ToGrpc(status);
}

absl::Status RecommenderService::DoRecommend(grpc::ServerContext* context,
                                             const affinity::v1::RecommendRequest& request,
                                             const LoadedModel& model, bool shadow,
                                             affinity::v1::RecommendResponse* response) {
  absl::StatusOr<std::vector<rules::CompiledFilter>> filters =
      CompileRequestFilters(request.filters());
  if (!filters.ok()) return filters.status();

  std::optional<storage::UserRecord> user;
  if (!request.user_id().empty()) {
    const auto lookup_start = std::chrono::steady_clock::now();
    absl::StatusOr<storage::UserRecord> record = model.reader->GetUser(request.user_id());
    if (!shadow) metrics_->RecordStage(ServerMetrics::kUserLookup, SecondsSince(lookup_start));
    if (record.ok()) {
      user = std::move(*record);
    } else if (!absl::IsNotFound(record.status())) {
      return absl::InternalError(
          absl::StrCat("reading user record: ", record.status().message()));
    }
  }

  // Everything the user interacted with: stored history, then this request.
  std::vector<WeightedItem> interactions;
  std::vector<uint32_t> excluded_indices;
  std::vector<uint32_t> seen_indices;
  if (user.has_value()) {
    for (uint32_t index : user->seen) {
      if (index >= model.items->rows()) continue;
      interactions.push_back(WeightedItem{index, 1.0f});
      seen_indices.push_back(index);
    }
  }
  size_t recent_known = 0;
  uint64_t recent_unknown = 0;
  for (const affinity::v1::Interaction& r : request.recent()) {
    std::optional<uint32_t> index = model.FindItem(r.item_id());
    if (!index.has_value()) {
      ++recent_unknown;
      continue;
    }
    ++recent_known;
    interactions.push_back(WeightedItem{*index, r.weight()});
    seen_indices.push_back(*index);
  }
  if (recent_unknown > 0 && !shadow) metrics_->AddUnknownRecentItems(recent_unknown);
  for (const std::string& id : request.exclude_item_ids()) {
    if (std::optional<uint32_t> index = model.FindItem(id)) excluded_indices.push_back(*index);
  }
  const std::vector<uint32_t> history = [&] {
    std::vector<uint32_t> h;
    for (const WeightedItem& w : interactions) h.push_back(w.index);
    return h;
  }();
  const size_t k = static_cast<size_t>(request.k());

  // The user vector: folded in when the request brings interactions the
  // model can use, else the stored one.
  std::vector<float> folded;
  absl::Span<const float> query;
  bool folded_in = false;
  if (recent_known > 0 && model.fold_in.has_value()) {
    const auto fold_in_start = std::chrono::steady_clock::now();
    absl::StatusOr<std::vector<float>> x =
        FoldInUser(*model.items, model.gram, *model.fold_in, interactions);
    if (!shadow) metrics_->RecordStage(ServerMetrics::kFoldIn, SecondsSince(fold_in_start));
    if (x.ok()) {
      folded = std::move(*x);
      query = folded;
      folded_in = true;
      if (!shadow) metrics_->AddFoldIn();
    } else if (!shadow) {
      // Answered without it (below); logged at the 1st, 2nd, 4th, 8th, ...
      // failure so that a broken model cannot flood the log.
      const uint64_t failures = metrics_->AddFoldInFailure();
      if ((failures & (failures - 1)) == 0) {
        LogLine(absl::StrCat("fold-in failed for model version ", model.version, " (",
                             failures, " so far): ", x.status().message(),
                             "; answering with the stored user vector or the fallback"));
      }
    }
  }
  if (!folded_in && user.has_value() &&
      user->factors.size() == static_cast<size_t>(model.metadata.dims())) {
    query = user->factors;
  }

  if (absl::Status s = CheckDeadline(context); !s.ok()) return s;
  std::vector<std::string> excluded_ids(request.exclude_item_ids().begin(),
                                        request.exclude_item_ids().end());
  return RespondWithRules(
      DeadlineOf(context), shadow, model, request.rule_set(), k, request.explain(), seen_indices,
      std::move(excluded_indices), excluded_ids, model.scorer.get(), model.items.get(),
      /*row_scales=*/nullptr, query, *filters,
      [&](const rules::RankedItem& item) {
        return ExplainModelItem(model, *item.index, item.score, history, folded_in);
      },
      response);
}

absl::Status RecommenderService::DoSimilarItems(
    grpc::ServerContext* context, const affinity::v1::SimilarItemsRequest& request,
    affinity::v1::RecommendResponse* response) {
  if (absl::Status s = ValidateSimilarItemsRequest(request, limits_, *rule_sets_); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::vector<rules::CompiledFilter>> filters =
      CompileRequestFilters(request.filters());
  if (!filters.ok()) return filters.status();
  const ModelManager::Route route = models_->ControlRoute();
  if (route.model == nullptr) return absl::UnavailableError("no model loaded yet");
  const LoadedModel& model = *route.model;
  std::optional<uint32_t> item = model.FindItem(request.item_id());
  if (!item.has_value()) {
    return absl::NotFoundError(absl::StrCat("item_id: \"", request.item_id(),
                                            "\" is not in model version ", model.version));
  }
  std::vector<uint32_t> excluded_indices = {*item};
  for (const std::string& id : request.exclude_item_ids()) {
    if (std::optional<uint32_t> index = model.FindItem(id)) excluded_indices.push_back(*index);
  }
  const std::vector<float> unit = model.UnitRow(*item);
  const absl::Span<const float> query(unit);
  if (absl::Status s = CheckDeadline(context); !s.ok()) return s;
  response->set_model_version(model.version);
  response->set_arm(route.arm);
  std::vector<std::string> excluded_ids(request.exclude_item_ids().begin(),
                                        request.exclude_item_ids().end());
  excluded_ids.push_back(request.item_id());
  const uint32_t query_item = *item;
  return RespondWithRules(
      DeadlineOf(context), /*shadow=*/false, model, request.rule_set(),
      static_cast<size_t>(request.k()), request.explain(), {}, std::move(excluded_indices),
      excluded_ids, model.similar_scorer.get(), model.items.get(), model.inverse_norms->data(),
      query, *filters,
      [&](const rules::RankedItem& ranked) {
        return ExplainSimilarItem(model, query_item, ranked.score);
      },
      response);
}

absl::StatusOr<std::vector<rules::CompiledFilter>>
RecommenderService::CompileRequestFilters(
    const google::protobuf::RepeatedPtrField<affinity::v1::Filter>& filters) const {
  if (filters.empty()) return std::vector<rules::CompiledFilter>();
  if (filters.size() > limits_.max_filters) {
    return absl::InvalidArgumentError(absl::StrCat("filters: ", filters.size(),
                                                   " given, at most ", limits_.max_filters));
  }
  for (int i = 0; i < filters.size(); ++i) {
    const int values = filters[i].any_of_size() + filters[i].none_of_size();
    if (values > limits_.max_filter_values) {
      return absl::InvalidArgumentError(
          absl::StrCat("filters[", i, "]: ", values, " any_of/none_of values, at most ",
                       limits_.max_filter_values));
    }
  }
  return rules::CompileFilters(
      std::vector<affinity::v1::Filter>(filters.begin(), filters.end()), "filters");
}

absl::Status RecommenderService::RespondWithRules(
    std::chrono::system_clock::time_point deadline, bool shadow, const LoadedModel& model,
    absl::string_view rule_set, size_t k, bool explain,
    const std::vector<uint32_t>& seen, std::vector<uint32_t> always_excluded,
    const std::vector<std::string>& excluded_ids, const Scorer* scorer,
    const ItemMatrix* matrix, const float* row_scales, absl::Span<const float> query,
    const std::vector<rules::CompiledFilter>& request_filters,
    const std::function<std::string(const rules::RankedItem&)>& explain_model_item,
    affinity::v1::RecommendResponse* response) {
  std::shared_ptr<const rules::PreparedRules> prepared = rules_->ForRequest(model);
  const rules::PreparedRuleSet* set = prepared->Find(rule_set);
  if (set == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("rule_set: unknown rule set \"", rule_set.substr(0, 64), "\""));
  }
  if (set->rules->exclude_seen) {
    always_excluded.insert(always_excluded.end(), seen.begin(), seen.end());
  }
  const ExclusionSet excluded(std::move(always_excluded));
  const absl::flat_hash_set<std::string> excluded_id_set(excluded_ids.begin(),
                                                         excluded_ids.end());
  rules::RuleRequest request;
  request.prepared = prepared;
  request.set = set;
  request.k = k;
  request.explain = explain;
  request.now_unix = absl::ToUnixSeconds(absl::Now());
  request.excluded = &excluded;
  request.excluded_ids = &excluded_id_set;
  request.popular = &model.reader->popular_items();
  if (!request_filters.empty()) request.request_filters = &request_filters;
  // The pipeline takes a plain result: a scoring error is kept here, and
  // the answer built without candidates is discarded for it.
  absl::Status scoring = absl::OkStatus();
  // Time inside the scorer (queue and scan), taken out of the rules stage.
  double scoring_seconds = 0;
  if (!query.empty()) {
    request.score_is_prefix_stable = scorer->ScansEveryAllowedRow();
    request.score = [&](ScoringQuery q) {
      q.vector = query;
      q.excluded = &excluded;
      const auto scoring_start = std::chrono::steady_clock::now();
      ScoreTiming timing;
      absl::StatusOr<ScoringResult> scored = batcher_->Score(*scorer, q, deadline, &timing);
      scoring_seconds += SecondsSince(scoring_start);
      if (scored.ok() && !shadow) {
        // A compact scan's re-rank is part of its pass: the scan is the rest.
        const double rerank = scorer->HasRerank() ? scored->rerank_seconds : 0.0;
        metrics_->RecordStage(ServerMetrics::kQueue, timing.queued_seconds);
        metrics_->RecordStage(ServerMetrics::kScan,
                              std::max(0.0, timing.scoring_seconds - rerank));
        if (scorer->HasRerank()) metrics_->RecordStage(ServerMetrics::kRerank, rerank);
      }
      if (!scored.ok()) {
        scoring = scored.status();
        return ScoringResult{};
      }
      return *std::move(scored);
    };
    request.score_item = [&](uint32_t index) {
      const float* row = matrix->row(index);
      const float scale = row_scales == nullptr ? 1.0f : row_scales[index];
      float score = 0;
      for (size_t d = 0; d < query.size(); ++d) {
        const float y = row_scales == nullptr ? row[d] : row[d] * scale;
        score += y * query[d];
      }
      return score;
    };
  }
  const auto rules_start = std::chrono::steady_clock::now();
  rules::RuleOutcome outcome = rules::RunRules(request);
  if (!scoring.ok()) return scoring;
  if (!shadow) {
    metrics_->AddItemsScored(outcome.items_scored);
    rule_metrics_->Record(set->rules->name, outcome.counts, outcome.items.empty());
  }
  for (const rules::RankedItem& item : outcome.items) {
    affinity::v1::ScoredItem* out = response->add_items();
    out->set_item_id(item.item_id);
    out->set_score(item.score);
    out->set_from_fallback(item.from_fallback);
    if (item.from_fallback) response->set_fallback(true);
    if (explain) {
      std::vector<std::string> parts;
      if (item.index.has_value() && !item.from_fallback && !item.pinned) {
        parts.push_back(explain_model_item(item));
      }
      if (!item.index.has_value()) parts.push_back("catalog item not in the model (not scored)");
      parts.insert(parts.end(), item.notes.begin(), item.notes.end());
      if (!set->rules->name.empty()) parts.push_back(absl::StrCat("rule set ", set->rules->name));
      out->set_explanation(absl::StrJoin(parts, "; "));
    }
  }
  if (!shadow) {
    metrics_->RecordStage(ServerMetrics::kRules,
                          std::max(0.0, SecondsSince(rules_start) - scoring_seconds));
  }
  return absl::OkStatus();
}

}  // namespace affinity::server
