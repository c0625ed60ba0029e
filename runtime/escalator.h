// Escalator: each lead's SLA clock and its escalation policy's steps
// (docs/language.md, "Escalation"). A lead with an SLA carries its
// respond_by deadline until first contact stops the clock. The Escalator
// files every lead with a deadline or a step to come by when it is next due
// (Arm), hands out what is due (TakeDue), and runs it (Escalate): marks the
// SLA missed once its deadline passed, sends a step's warning, or moves the
// lead to the step's target (through the RepPicker, passing over the reps
// who had it) and starts the new owner's clock over.
//
// A lead's next due time is part of its stored assignment (next_due), so
// after a restart the overdue ones are due at once, and none twice.
//
// Only the near part of what is due is filed in memory: every lead due up
// to through() (a (time, lead id) key, inclusive). Whatever is due later
// is in the store alone (StateReader::DueAfter), and the owner files it as
// time moves (ExtendTo, File): memory follows the SLA clocks that run out
// in the next hours, not every lead with a clock running.
//
// Not thread-safe: its owner (the Assigner) calls it only under its own
// lock, and records the changed lead and the events it returns.
#ifndef LEADROUTE_RUNTIME_ESCALATOR_H_
#define LEADROUTE_RUNTIME_ESCALATOR_H_

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "runtime/program.h"
#include "runtime/rep_picker.h"
#include "runtime/state_store.h"

namespace leadroute::runtime {

class Escalator {
 public:
  // Moves leads through `picker`, which must outlive the escalator.
  explicit Escalator(RepPicker* picker) : picker_(picker) {}
  Escalator(const Escalator&) = delete;
  Escalator& operator=(const Escalator&) = delete;

  // Everything due up to this key is filed; nothing before the first
  // ExtendTo.
  const DueLead& through() const { return through_; }
  // Files from now on every lead armed due up to `through` (earlier or
  // later than before); the owner files those due up to it that were
  // armed before (File).
  void ExtendTo(DueLead through) { through_ = std::move(through); }
  // Files one lead due up to through().
  void File(const DueLead& due) {
    if (due <= through_) due_.insert(due);
  }

  // Starts the current owner's SLA clock at `start`: respond_by is when the
  // whole SLA has passed on it, and the policy's steps start over.
  void StartClock(const Program& p, Assignment& a, absl::Time start);
  // Sets a.next_due (the SLA deadline while pending, or the next step of
  // its escalation, whichever comes first; none once contacted or ended)
  // and files the lead by it when that is up to through().
  void Arm(const Program& p, Assignment& a);
  // Unfiles the lead and clears a.next_due.
  void Disarm(Assignment& a);

  // The leads due at or before `now`, unfiled: (when, lead id), earliest
  // first. A lead re-armed for `now` or earlier waits for the next call.
  std::vector<DueLead> TakeDue(absl::Time now);
  // Files a lead TakeDue handed out again, as it was (its run failed).
  void Refile(const DueLead& due) { due_.insert(due); }
  // The earliest time something filed is due, if anything is.
  std::optional<absl::Time> NextDue() const;
  // How many leads are filed.
  size_t filed() const { return due_.size(); }

  // Runs what is due for `a` at `now` under `p` (the live rules: a policy
  // no longer in them only has its deadline marked); events go to
  // `events`. The caller re-arms the lead.
  void Escalate(const Program& p, Assignment& a, absl::Time now,
                std::vector<LeadEvent>* events);

 private:
  // When `percent` of `a`'s SLA has passed on its clock (business hours of
  // its rep when `e` says so).
  absl::Time ClockAt(const Program& p, const Assignment& a, const Escalation* e,
                     int percent) const;
  // Where a reassign step can put `a` now: a rep (and the team they were
  // picked from, or -1), a queue, or nowhere (why, in `skipped`). Reps who
  // had the lead are passed over.
  struct Place {
    int rep = -1;
    int team = -1;
    const std::string* queue = nullptr;
  };
  Place FindPlace(const Program& p, const Assignment& a,
                  const EscalationStep& step, absl::Time now,
                  std::vector<std::string>* skipped);

  RepPicker* const picker_;
  // Leads with a deadline or escalation step to come, by when, up to
  // through_.
  std::set<DueLead> due_;
  DueLead through_{absl::InfinitePast(), ""};
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_ESCALATOR_H_
