// The names and helpers state_store.h declares beside its records.
#include "runtime/state_store.h"

#include <algorithm>

namespace leadroute::runtime {

const char* LeadStatusName(LeadStatus s) {
  static constexpr const char* kNames[] = {"open", "released", "closed",
                                           "unassigned"};
  return kNames[static_cast<int>(s)];
}

const char* SlaStatusName(SlaStatus s) {
  static constexpr const char* kNames[] = {"none", "pending", "met", "missed"};
  return kNames[static_cast<int>(s)];
}

const char* OutcomeName(Outcome o) {
  static constexpr const char* kNames[] = {
      "none", "contacted", "qualified", "opportunity", "won", "lost"};
  return kNames[static_cast<int>(o)];
}

const char* AvailabilityName(Availability a) {
  static constexpr const char* kNames[] = {"available", "away",
                                           "out_of_office"};
  return kNames[static_cast<int>(a)];
}

LeadEvent EventOf(const Assignment& a, absl::Time at, std::string kind,
                  std::string from, std::string reason) {
  LeadEvent e;
  e.lead_id = a.lead_id;
  e.at = at;
  e.kind = std::move(kind);
  e.from = std::move(from);
  e.to = a.owner;
  e.reason = std::move(reason);
  e.owner_kind = a.owner_kind;
  e.team = a.team;
  e.channel = a.channel;
  e.priority = a.priority;
  e.sla = a.sla;
  e.respond_by = a.respond_by;
  return e;
}

uint64_t LastChange(const StateSnapshot& snapshot) {
  return std::max(snapshot.last_event_id, snapshot.last_assignment_seq);
}

}  // namespace leadroute::runtime
