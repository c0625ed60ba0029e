// ForwardingStore: a StateStore that passes every call to a real one, for
// tests to override the one call they interfere with (a commit that fails,
// or waits to be let go).
#ifndef LEADROUTE_TESTS_RUNTIME_FORWARDING_STORE_H_
#define LEADROUTE_TESTS_RUNTIME_FORWARDING_STORE_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/state_store.h"

namespace leadroute::runtime {

class ForwardingStore : public StateStore {
 public:
  explicit ForwardingStore(std::unique_ptr<StateStore> real)
      : real_(std::move(real)) {}

  absl::StatusOr<StateSnapshot> Load(absl::Time recent_since) override {
    return real_->Load(recent_since);
  }
  absl::StatusOr<std::optional<Assignment>> FindAssignment(
      const std::string& lead_id) override {
    return real_->FindAssignment(lead_id);
  }
  absl::StatusOr<std::optional<Assignment>> LastByEmail(
      const std::string& email_key) override {
    return real_->LastByEmail(email_key);
  }
  absl::StatusOr<std::vector<Assignment>> OpenLeadsOfRep(
      const std::string& rep, const std::string& after_lead_id,
      int limit) override {
    return real_->OpenLeadsOfRep(rep, after_lead_id, limit);
  }
  absl::Status Apply(absl::Span<const StateChange> changes) override {
    return real_->Apply(changes);
  }
  absl::StatusOr<std::vector<LeadEvent>> EventsAfter(uint64_t after,
                                                     int limit) override {
    return real_->EventsAfter(after, limit);
  }
  absl::Status ScanAssignments(
      absl::Time from, absl::Time to,
      const std::function<void(const Assignment&)>& visit) override {
    return real_->ScanAssignments(from, to, visit);
  }
  absl::StatusOr<std::vector<Assignment>> ListAssignments(
      const std::string& owner, std::optional<LeadStatus> status,
      const std::string& after_lead_id, int limit) override {
    return real_->ListAssignments(owner, status, after_lead_id, limit);
  }
  absl::StatusOr<uint64_t> PrunedThrough() override {
    return real_->PrunedThrough();
  }
  absl::StatusOr<uint64_t> PrunedAssignments() override {
    return real_->PrunedAssignments();
  }
  absl::StatusOr<std::optional<uint64_t>> CursorValue(
      const std::string& name) override {
    return real_->CursorValue(name);
  }

 private:
  const std::unique_ptr<StateStore> real_;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_TESTS_RUNTIME_FORWARDING_STORE_H_
