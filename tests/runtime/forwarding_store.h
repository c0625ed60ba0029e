// ForwardingStore: a StateStore that passes every call to a real one, for
// tests to override the one call they interfere with (a commit that fails,
// or waits to be let go: HeldStore).
#ifndef LEADROUTE_TESTS_RUNTIME_FORWARDING_STORE_H_
#define LEADROUTE_TESTS_RUNTIME_FORWARDING_STORE_H_

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
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
  absl::Status ScanLeadKeys(
      const std::function<bool(std::string_view, std::string_view)>& visit)
      override {
    return real_->ScanLeadKeys(visit);
  }
  absl::StatusOr<std::vector<Assignment>> ListAssignments(
      const std::string& owner, std::optional<LeadStatus> status,
      const std::string& after_lead_id, int limit) override {
    return real_->ListAssignments(owner, status, after_lead_id, limit);
  }
  absl::StatusOr<std::vector<DueLead>> DueAfter(const DueLead& after,
                                                absl::Time before,
                                                int limit) override {
    return real_->DueAfter(after, before, limit);
  }
  absl::StatusOr<uint64_t> LastEventId() override {
    return real_->LastEventId();
  }
  absl::StatusOr<StoredRulesets> Rulesets(int64_t unless_live,
                                          int64_t unless_scheduled) override {
    return real_->Rulesets(unless_live, unless_scheduled);
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
  absl::StatusOr<std::vector<Assignment>> NewestAssignments(
      const std::string& owner, bool include_ended, int limit) override {
    return real_->NewestAssignments(owner, include_ended, limit);
  }
  absl::StatusOr<std::vector<OwnerCount>> CountByOwner() override {
    return real_->CountByOwner();
  }
  absl::StatusOr<std::vector<LeadEvent>> History(
      const std::string& lead_id) override {
    return real_->History(lead_id);
  }
  absl::StatusOr<std::vector<AuditRecord>> Audit(
      const AuditQuery& query) override {
    return real_->Audit(query);
  }

 private:
  const std::unique_ptr<StateStore> real_;
};

// The real store, with commits a test can hold: Apply waits while held,
// and once let go either commits or fails without writing.
class HeldStore : public ForwardingStore {
 public:
  class Control {
   public:
    void Hold() {
      std::lock_guard<std::mutex> lock(mu_);
      held_ = true;
    }
    // Lets held commits go on; with an error, they fail with it instead.
    void Release(absl::Status fail = absl::OkStatus()) {
      std::lock_guard<std::mutex> lock(mu_);
      held_ = false;
      fail_ = std::move(fail);
      cv_.notify_all();
    }
    // Waits until a commit is held; false after 10 s.
    bool WaitHeld() {
      std::unique_lock<std::mutex> lock(mu_);
      return cv_.wait_for(lock, std::chrono::seconds(10),
                          [&] { return waiting_ > 0; });
    }

   private:
    friend class HeldStore;
    std::mutex mu_;
    std::condition_variable cv_;
    bool held_ = false;
    int waiting_ = 0;
    absl::Status fail_;
  };

  HeldStore(std::unique_ptr<StateStore> real, std::shared_ptr<Control> control)
      : ForwardingStore(std::move(real)), control_(std::move(control)) {}

  absl::Status Apply(absl::Span<const StateChange> changes) override {
    {
      std::unique_lock<std::mutex> lock(control_->mu_);
      ++control_->waiting_;
      control_->cv_.notify_all();
      control_->cv_.wait(lock, [&] { return !control_->held_; });
      --control_->waiting_;
      if (!control_->fail_.ok()) return control_->fail_;
    }
    return ForwardingStore::Apply(changes);
  }

 private:
  const std::shared_ptr<Control> control_;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_TESTS_RUNTIME_FORWARDING_STORE_H_
