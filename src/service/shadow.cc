// The shadow's queue and thread; see shadow.h.
#include "src/service/shadow.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "src/service/ruleset_registry.h"

namespace leadroute {
namespace {

// How often the shadow's thread looks for leads, and the backlog that wakes
// it sooner.
constexpr auto kPeriod = std::chrono::milliseconds(20);
constexpr size_t kWakeAt = 4096;

int64_t ThreadCpuNanos() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

}  // namespace

// Leads are packed into one buffer per call, and calls' buffers into the
// queue's one buffer, so that shadowing a lead allocates nothing (a lead's
// many small strings, allocated on the routing thread and freed on the
// shadow's, made glibc's arenas the cost). A lead: its id, received time
// (Unix seconds, then nanoseconds), attributes (name, type, value), then the
// live decision's id and outputs (owner as "kind/name", priority, SLA, channel,
// escalation, rules "stage/rule" with their locations). A call's pack in the
// queue is headed by the shadow's generation then, its leads and its bytes.
// Numbers are host-order bytes; text is a 32-bit length and the bytes.
class Packer {
 public:
  explicit Packer(std::string* out) : out_(out) {}
  void U64(uint64_t v) { Bytes(&v, sizeof v); }
  void I64(int64_t v) { Bytes(&v, sizeof v); }
  void U32(uint32_t v) { Bytes(&v, sizeof v); }
  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void F64(double v) { Bytes(&v, sizeof v); }
  // Whole seconds and the nanoseconds beyond them: any absl::Time a lead
  // can carry (Unix nanoseconds alone end in 2262).
  void Time(absl::Time t) {
    const int64_t seconds = absl::ToUnixSeconds(t);
    I64(seconds);
    I64(absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds)));
  }
  void Str(absl::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    out_->append(s.data(), s.size());
  }
  // Two strings written as one, "a" "/" "b".
  void Join(absl::string_view a, absl::string_view b) {
    U32(static_cast<uint32_t>(a.size() + 1 + b.size()));
    out_->append(a.data(), a.size());
    out_->push_back('/');
    out_->append(b.data(), b.size());
  }

 private:
  void Bytes(const void* p, size_t n) {
    out_->append(static_cast<const char*>(p), n);
  }
  std::string* out_;
};

class Unpacker {
 public:
  explicit Unpacker(absl::string_view in) : in_(in) {}
  bool done() const { return at_ >= in_.size(); }
  uint64_t U64() { return Fixed<uint64_t>(); }
  int64_t I64() { return Fixed<int64_t>(); }
  uint32_t U32() { return Fixed<uint32_t>(); }
  uint8_t U8() { return static_cast<uint8_t>(in_[at_++]); }
  double F64() { return Fixed<double>(); }
  absl::Time Time() {
    const int64_t seconds = I64();
    return absl::FromUnixSeconds(seconds) + absl::Nanoseconds(I64());
  }
  absl::string_view Str() {
    const uint32_t n = U32();
    absl::string_view s = in_.substr(at_, n);
    at_ += n;
    return s;
  }

 private:
  template <typename T>
  T Fixed() {
    T v;
    std::memcpy(&v, in_.data() + at_, sizeof v);
    at_ += sizeof v;
    return v;
  }
  absl::string_view in_;
  size_t at_ = 0;
};

void Assign(std::string* s, absl::string_view v) {
  s->assign(v.data(), v.size());
}

void PackValue(const runtime::Value& v, Packer* p) {
  p->U8(static_cast<uint8_t>(v.index()));
  switch (runtime::TypeOf(v)) {
    case runtime::ValueType::kString:
      p->Str(std::get<std::string>(v));
      break;
    case runtime::ValueType::kInt:
      p->I64(std::get<int64_t>(v));
      break;
    case runtime::ValueType::kNumber:
      p->F64(std::get<double>(v));
      break;
    case runtime::ValueType::kBool:
      p->U8(std::get<bool>(v) ? 1 : 0);
      break;
    case runtime::ValueType::kTime:
      p->Time(std::get<absl::Time>(v));
      break;
    case runtime::ValueType::kStringList: {
      const auto& list = std::get<std::vector<std::string>>(v);
      p->U32(static_cast<uint32_t>(list.size()));
      for (const std::string& e : list) p->Str(e);
      break;
    }
  }
}

runtime::Value UnpackValue(Unpacker* u) {
  switch (static_cast<runtime::ValueType>(u->U8())) {
    case runtime::ValueType::kString:
      return std::string(u->Str());
    case runtime::ValueType::kInt:
      return u->I64();
    case runtime::ValueType::kNumber:
      return u->F64();
    case runtime::ValueType::kBool:
      return u->U8() != 0;
    case runtime::ValueType::kTime:
      return u->Time();
    case runtime::ValueType::kStringList: {
      std::vector<std::string> list(u->U32());
      for (std::string& e : list) e = std::string(u->Str());
      return list;
    }
  }
  return std::string();
}

Shadow::Shadow(Options options) : options_(options) {
  thread_ = std::thread([this] { Loop(); });
}

Shadow::~Shadow() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Shadow::Set(std::shared_ptr<const Ruleset> candidate, absl::Time now) {
  std::lock_guard<std::mutex> serial(set_mu_);
  std::unique_ptr<runtime::Replayer> fresh;
  if (candidate != nullptr) {
    fresh = std::make_unique<runtime::Replayer>(candidate->program, nullptr);
  }
  uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(mu_);
    generation = ++generation_;
    candidate_ = candidate;
    since_ = now;
    offered_ = dropped_ = 0;
    active_.store(candidate != nullptr, std::memory_order_relaxed);
  }
  std::lock_guard<std::mutex> lock(tally_mu_);
  replayer_ = std::move(fresh);
  replayer_ruleset_ = std::move(candidate);
  replayer_generation_ = generation;
}

std::shared_ptr<const Ruleset> Shadow::candidate() const {
  std::lock_guard<std::mutex> lock(mu_);
  return candidate_;
}

size_t Shadow::PackLead(
    Pending* pending, absl::string_view lead_id, absl::Time received_at,
    const std::vector<LeadReader::Attribute>& attributes) const {
  const size_t mark = pending->bytes.size();
  Packer p(&pending->bytes);
  p.Str(lead_id);
  p.Time(received_at);
  p.U32(static_cast<uint32_t>(attributes.size()));
  for (const LeadReader::Attribute& a : attributes) {
    p.Str(a.name);
    PackValue(a.value, &p);
  }
  return mark;
}

void Shadow::PackDecision(Pending* pending, absl::string_view decision_id,
                          const runtime::Decision& d) const {
  Packer p(&pending->bytes);
  p.Str(decision_id);
  if (!d.candidates.empty()) {
    p.Join(runtime::OwnerKindName(d.candidates.front().kind),
           d.candidates.front().name);
  } else if (d.owner_kind == runtime::OwnerKind::kNone) {
    p.Str("none");
  } else {
    p.Join(runtime::OwnerKindName(d.owner_kind), d.owner);
  }
  p.Str(d.priority ? absl::string_view(d.priority->label) : "");
  p.U8(d.sla ? 1 : 0);
  p.I64(d.sla ? absl::ToInt64Nanoseconds(*d.sla) : 0);
  p.Str(d.channel);
  p.Str(d.escalation);
  p.U32(static_cast<uint32_t>(d.decided_by.size()));
  for (const runtime::RuleRef& ref : d.decided_by) {
    p.Join(ref.stage, ref.rule);
    p.Str(ref.location);
  }
  ++pending->leads;
}

void Shadow::Submit(Pending* pending) {
  if (pending->leads == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (candidate_ != nullptr) {
    offered_ += pending->leads;
    if (pending_ + pending->leads > options_.max_pending) {
      dropped_ += pending->leads;
    } else {
      Packer p(&queue_);
      p.U64(generation_);
      p.I64(pending->leads);
      p.U64(pending->bytes.size());
      queue_ += pending->bytes;
      pending_ += pending->leads;
      queued_ += static_cast<uint64_t>(pending->leads);
      // The thread wakes by itself every kPeriod; only a big backlog wakes
      // it sooner. A wake-up per call (a futex call, a context switch)
      // would cost a lone Route more than the shadow's decision does.
      if (pending_ >= static_cast<int64_t>(kWakeAt)) wake_.notify_one();
    }
  }
  pending->bytes.clear();
  pending->leads = 0;
}

Shadow::Status Shadow::status() const {
  Status s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s.candidate = candidate_;
    s.since = since_;
    s.offered = offered_;
    s.dropped = dropped_;
  }
  std::lock_guard<std::mutex> lock(tally_mu_);
  if (replayer_ != nullptr) s.report = replayer_->Report(/*examples=*/false);
  return s;
}

void Shadow::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = queued_;
  wake_.notify_one();
  idle_.wait(lock, [&] { return decided_ >= target; });
}

void Shadow::Loop() {
  std::string batch;
  std::vector<runtime::ReplayAttribute> attributes;
  runtime::RecordedDecision live;
  std::string lead_id, decision_id;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait_for(lock, kPeriod, [this] {
      return stop_ || pending_ >= static_cast<int64_t>(kWakeAt);
    });
    if (pending_ == 0) {
      if (stop_) return;
      continue;
    }
    batch.swap(queue_);
    queue_.clear();
    const int64_t n = pending_;
    pending_ = 0;
    lock.unlock();
    const int64_t cpu_start = ThreadCpuNanos();
    {
      std::lock_guard<std::mutex> tally(tally_mu_);
      Unpacker u(batch);
      uint64_t generation = 0;
      int64_t left = 0;  // leads left in the current call's pack
      for (int64_t i = 0; i < n; ++i) {
        while (left == 0) {
          generation = u.U64();
          left = u.I64();
          u.U64();  // its bytes
        }
        --left;
        Assign(&lead_id, u.Str());
        const absl::Time received_at = u.Time();
        attributes.clear();
        for (uint32_t k = u.U32(); k > 0; --k) {
          std::string name(u.Str());
          attributes.emplace_back(std::move(name), UnpackValue(&u));
        }
        Assign(&decision_id, u.Str());
        // The owner is written "kind/name"; replay writes "kind:name".
        Assign(&live.owner, u.Str());
        if (const size_t slash = live.owner.find('/');
            slash != std::string::npos) {
          live.owner[slash] = ':';
        }
        Assign(&live.priority, u.Str());
        const bool has_sla = u.U8() != 0;
        const int64_t sla = u.I64();
        live.sla.reset();
        if (has_sla) live.sla = absl::Nanoseconds(sla);
        Assign(&live.channel, u.Str());
        Assign(&live.escalation, u.Str());
        const uint32_t rules = u.U32();
        live.rules.resize(rules);
        for (auto& [rule, location] : live.rules) {
          Assign(&rule, u.Str());
          Assign(&location, u.Str());
        }
        // A lead offered to a shadow since replaced is not this one's.
        if (replayer_ == nullptr || generation != replayer_generation_) {
          continue;
        }
        replayer_->Add(lead_id, received_at, attributes, &live);
        const runtime::Replayer::Last& last = replayer_->last();
        if (options_.log == nullptr || !last.compared) continue;
        bool any = false;
        for (bool c : last.changed) any = any || c;
        if (any) {
          options_.log->RecordShadow(
              *replayer_ruleset_, replayer_->last_decision(), decision_id,
              live.owner, last.changed, absl::Now(), received_at);
        }
      }
    }
    // Within the CPU share: having worked `busy`, rest busy * (1/share - 1).
    const int64_t busy = ThreadCpuNanos() - cpu_start;
    if (options_.cpu_share < 1 && busy > 0) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(static_cast<int64_t>(
          busy * (1 / std::max(options_.cpu_share, 0.01) - 1))));
    }
    lock.lock();
    decided_ += static_cast<uint64_t>(n);
    idle_.notify_all();
  }
}

}  // namespace leadroute
