// Business-hours SLA clocks and how an SLA reads; see sla_clock.h.
#include "runtime/sla_clock.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"

namespace leadroute::runtime {

absl::Time WorkingDeadline(const Rep& rep, absl::Time start,
                           absl::Duration work) {
  if (rep.hours.empty() || work <= absl::ZeroDuration()) return start + work;
  constexpr int kMinutesPerDay = 24 * 60;
  absl::Duration left = work;
  absl::CivilDay day = absl::ToCivilDay(start, rep.timezone);
  for (int i = 0; i < 400; ++i, ++day) {
    const bool off = std::any_of(
        rep.holidays.begin(), rep.holidays.end(), [&](const auto& range) {
          return range.first <= day && day <= range.second;
        });
    if (off) continue;
    // Monday = 0, as Rep::hours counts the week.
    const int week_start =
        static_cast<int>(absl::GetWeekday(day)) * kMinutesPerDay;
    for (const auto& [from, to] : rep.hours) {
      const int lo = std::max(from, week_start);
      const int hi = std::min(to, week_start + kMinutesPerDay);
      if (lo >= hi) continue;
      const absl::CivilMinute midnight(day);
      absl::Time a =
          absl::FromCivil(midnight + (lo - week_start), rep.timezone);
      const absl::Time b =
          absl::FromCivil(midnight + (hi - week_start), rep.timezone);
      if (b <= start) continue;
      a = std::max(a, start);
      if (b - a >= left) return a + left;
      left -= b - a;
    }
  }
  return start + work;
}

std::string ShortDuration(absl::Duration d) {
  std::string out;
  const int64_t seconds = absl::ToInt64Seconds(d);
  const int64_t days = seconds / 86400, hours = seconds / 3600 % 24,
                mins = seconds / 60 % 60, secs = seconds % 60;
  if (days > 0) absl::StrAppend(&out, days, "d");
  if (hours > 0) absl::StrAppend(&out, hours, "h");
  if (mins > 0) absl::StrAppend(&out, mins, "m");
  if (secs > 0 || out.empty()) absl::StrAppend(&out, secs, "s");
  return out;
}

}  // namespace leadroute::runtime
