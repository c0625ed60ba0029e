// SLA clocks: when an amount of a rep's working time has passed. A
// business-hours escalation policy (runtime/program.h, Escalation) counts
// the SLA only while the owner is working, so "4h" given on Friday at 16:00
// to a rep working 09:00-17:00 falls on Monday at 12:00 in their time zone.
#ifndef LEADROUTE_RUNTIME_SLA_CLOCK_H_
#define LEADROUTE_RUNTIME_SLA_CLOCK_H_

#include <string>

#include "absl/time/time.h"
#include "runtime/program.h"

namespace leadroute::runtime {

// The instant at which `work` of `rep`'s working time (their `hours` in
// their time zone, holidays excluded, DST as the tz database says) has
// passed since `start`. A rep without hours is always working: start +
// work. So is one who works no minute in the next 400 days (all holidays),
// rather than a deadline that never comes.
absl::Time WorkingDeadline(const Rep& rep, absl::Time start,
                           absl::Duration work);

// "15m", "1h30m", "2d", "45s": an SLA as the rules write it, for the
// reasons events give.
std::string ShortDuration(absl::Duration d);

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_SLA_CLOCK_H_
