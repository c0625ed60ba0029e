// LeadReader, SplitBatchRequest and SplitRouteRequest held to protobuf's own
// parser: on generated wire bytes (fields in any order, repeated, of the wrong
// wire type, unknown fields and groups, merged oneof members, replaced map
// entries) and on the same bytes corrupted at random, both must accept the
// same inputs and read the same lead from them.
#include <map>
#include <random>

#include "base/field_error.h"
#include "gmock/gmock.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"
#include "src/wire/convert.h"
#include "src/wire/decision_writer.h"
#include "src/wire/lead_reader.h"
#include "tests/src/wire/lead_wire_oracle.h"

namespace leadroute {
namespace {

// Protobuf logs every string it finds not to be UTF-8; these tests make
// thousands on purpose.
class LeadWireTest : public testing::Test {
  google::protobuf::LogSilencer quiet_;
};

// --- Writing wire bytes by hand, including what protobuf never writes.

void Varint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void Tag(uint32_t field, uint32_t wire_type, std::string* out) {
  Varint((uint64_t{field} << 3) | wire_type, out);
}

void Len(uint32_t field, const std::string& bytes, std::string* out) {
  Tag(field, 2, out);
  Varint(bytes.size(), out);
  out->append(bytes);
}

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  int Below(int n) {
    return std::uniform_int_distribution<int>(0, n - 1)(rng_);
  }
  bool OneIn(int n) { return Below(n) == 0; }

  // Mostly valid text; sometimes bytes that are not UTF-8.
  std::string Text() {
    static const char* const kPieces[] = {
        "US",
        "DE",
        "a",
        "",
        "demo",
        "\xc3\xa9",          // é
        "\xe2\x82\xac",      // €
        "\xf0\x9f\x98\x80",  // an emoji
        "\xed\x9f\xbf",      // U+D7FF
    };
    static const char* const kBad[] = {"\xc0\xaf", "\xed\xa0\x80", "\xff",
                                       "\xe2\x82", "\xf4\x90\x80\x80"};
    std::string s;
    const int n = Below(4);
    for (int i = 0; i < n; ++i) s += kPieces[Below(9)];
    if (OneIn(25))
      s.insert(Below(static_cast<int>(s.size()) + 1), kBad[Below(5)]);
    return s;
  }

  // A field no reader knows, of any wire type; sometimes a nested group.
  void Unknown(std::string* out, int depth = 0) {
    const uint32_t field = 7 + Below(20);
    switch (Below(depth < 2 ? 5 : 4)) {
      case 0:
        Tag(field, 0, out);
        Varint(rng_(), out);
        break;
      case 1:
        Tag(field, 1, out);
        out->append("12345678");
        break;
      case 2:
        Len(field, Text(), out);
        break;
      case 3:
        Tag(field, 5, out);
        out->append("1234");
        break;
      default:
        Tag(field, 3, out);
        Unknown(out, depth + 1);
        Tag(field, 4, out);
    }
  }

  std::string Timestamp() {
    std::string t;
    const int n = 1 + Below(3);
    for (int i = 0; i < n; ++i) {
      switch (Below(4)) {
        case 0:
          Tag(1, 0, &t);
          Varint(OneIn(8) ? static_cast<uint64_t>(-5) : 1700000000 + Below(99),
                 &t);
          break;
        case 1:
          Tag(2, 0, &t);
          Varint(OneIn(8) ? 2000000000u : static_cast<uint64_t>(Below(1000)),
                 &t);
          break;
        case 2:
          Unknown(&t);
          break;
        default:
          Tag(1, 5, &t);  // seconds with the wrong wire type: unknown
          t.append("abcd");
      }
    }
    return t;
  }

  // A Value: one to three member chunks, which protobuf merges.
  std::string Value() {
    std::string v;
    const int n = OneIn(10) ? 0 : 1 + Below(OneIn(3) ? 3 : 1);
    for (int i = 0; i < n; ++i) {
      switch (Below(9)) {
        case 0:
          Len(1, Text(), &v);
          break;
        case 1:
          Tag(2, 0, &v);
          Varint(OneIn(4) ? static_cast<uint64_t>(-7) : Below(5000), &v);
          break;
        case 2: {
          Tag(3, 1, &v);
          const double d = OneIn(6) ? 1.0 / 0.0 : Below(1000) / 8.0;
          v.append(reinterpret_cast<const char*>(&d), 8);
          break;
        }
        case 3:
          Tag(4, 0, &v);
          Varint(Below(3), &v);
          break;
        case 4:
          Len(5, Timestamp(), &v);
          break;
        case 5: {
          std::string list;
          const int items = Below(3);
          for (int j = 0; j < items; ++j) Len(1, Text(), &list);
          if (OneIn(4)) Unknown(&list);
          Len(6, list, &v);
          break;
        }
        case 6:
          Tag(2, 2, &v);  // int_value as bytes: unknown
          Varint(1, &v);
          v.push_back('x');
          break;
        default:
          Unknown(&v);
      }
    }
    return v;
  }

  std::string Entry() {
    static const char* const kNames[] = {
        "country", "employees", "source", "visited", "products", "x", ""};
    std::string e;
    const int n = 1 + Below(3);
    for (int i = 0; i < n; ++i) {
      switch (Below(5)) {
        case 0:
        case 1:
          Len(1, OneIn(30) ? std::string("\xc3") : kNames[Below(7)], &e);
          break;
        case 2:
        case 3:
          Len(2, Value(), &e);
          break;
        default:
          Unknown(&e);
      }
    }
    return e;
  }

  std::string Lead() {
    std::string lead;
    const int n = Below(8);
    for (int i = 0; i < n; ++i) {
      switch (Below(6)) {
        case 0:
          Len(1, OneIn(3) ? "L-" + std::to_string(Below(100)) : Text(), &lead);
          break;
        case 1:
        case 2:
        case 3:
          Len(2, Entry(), &lead);
          break;
        case 4:
          Tag(1, 0, &lead);  // id as a varint: unknown
          Varint(9, &lead);
          break;
        default:
          Unknown(&lead);
      }
    }
    return lead;
  }

  // Flips, truncates, inserts or deletes a few bytes.
  std::string Corrupt(std::string s) {
    const int n = 1 + Below(3);
    for (int i = 0; i < n; ++i) {
      const int at = Below(static_cast<int>(s.size()) + 1);
      switch (Below(4)) {
        case 0:
          if (at < static_cast<int>(s.size()))
            s[at] = static_cast<char>(rng_());
          break;
        case 1:
          s.resize(at);
          break;
        case 2:
          s.insert(s.begin() + at, static_cast<char>(rng_()));
          break;
        default:
          if (at < static_cast<int>(s.size())) s.erase(at, 1);
      }
    }
    return s;
  }

 private:
  std::mt19937 rng_;
};

// Reads `bytes` both ways (lead_wire_oracle.h); true when protobuf
// accepted them.
bool ExpectSameReading(const std::string& bytes, LeadReader& reader) {
  const LeadAgreement agreement = CompareLeadReading(bytes, reader);
  EXPECT_EQ(agreement.mismatch, "");
  return agreement.proto_accepted;
}

TEST_F(LeadWireTest, ReadsWhatProtobufReadsOnGeneratedBytes) {
  Generator gen(20261123);
  LeadReader reader;  // one reader for every lead, as a batch uses it
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = gen.Lead();
    if (gen.OneIn(4)) bytes += gen.Lead();  // two leads as one: a merge
    accepted += ExpectSameReading(bytes, reader);
    if (testing::Test::HasFailure()) {
      ADD_FAILURE() << "input " << i << ": " << testing::PrintToString(bytes);
      return;
    }
  }
  // Most inputs are valid, so the comparison is not only of rejections.
  EXPECT_GT(accepted, 15000);
}

TEST_F(LeadWireTest, RejectsWhatProtobufRejectsOnCorruptedBytes) {
  Generator gen(7);
  LeadReader reader;
  int accepted = 0, rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string bytes = gen.Corrupt(gen.Lead());
    (ExpectSameReading(bytes, reader) ? accepted : rejected)++;
    if (testing::Test::HasFailure()) {
      ADD_FAILURE() << "input " << i << ": " << testing::PrintToString(bytes);
      return;
    }
  }
  EXPECT_GT(accepted, 1000);
  EXPECT_GT(rejected, 1000);
}

TEST_F(LeadWireTest, ValidatesUtf8AsProtobufDoes) {
  // Every one- and two-byte string, and random longer ones, as a lead id.
  std::mt19937 rng(3);
  for (int i = 0; i < 65536 + 20000; ++i) {
    std::string s;
    if (i < 256) {
      s.push_back(static_cast<char>(i));
    } else if (i < 65536) {
      s = {static_cast<char>(i >> 8), static_cast<char>(i & 0xff)};
    } else {
      const int n = 3 + static_cast<int>(rng() % 4);
      for (int j = 0; j < n; ++j) {
        s.push_back(static_cast<char>(rng() % 2 ? 0x80 + rng() % 0x80
                                                : 0xe0 + rng() % 0x20));
      }
    }
    std::string bytes;
    Len(1, s, &bytes);
    v1::Lead parsed;
    ASSERT_EQ(IsValidUtf8(s), parsed.ParseFromString(bytes))
        << testing::PrintToString(s);
  }
}

TEST_F(LeadWireTest, LaterEntriesReplaceEarlierOnesAndMembersMerge) {
  std::string entry1, value1, entry2, value2, ts1, ts2, lead;
  Tag(2, 0, &value1);
  Varint(5, &value1);  // employees: int 5 ...
  Len(1, "employees", &entry1);
  Len(2, value1, &entry1);
  Len(2, entry1, &lead);
  Tag(1, 0, &ts1);
  Varint(1700000000, &ts1);
  Tag(2, 0, &ts2);
  Varint(7, &ts2);
  Len(5, ts1, &value2);  // ... then a time, given in two chunks
  Len(5, ts2, &value2);
  Len(2, value2, &entry2);
  Len(1, "employees", &entry2);  // the key after the value
  Len(2, entry2, &lead);
  Len(1, "L-1", &lead);

  LeadReader reader;
  ASSERT_TRUE(reader.Read(lead, 1000).ok());
  ASSERT_EQ(reader.attributes().size(), 1u);
  EXPECT_EQ(reader.attributes()[0].name, "employees");
  EXPECT_EQ(std::get<absl::Time>(reader.attributes()[0].value),
            absl::FromUnixSeconds(1700000000) + absl::Nanoseconds(7));
}

TEST_F(LeadWireTest, ManyAttributesAreIndexedNotScanned) {
  // Past 16 names the reader keeps a map; duplicates still replace.
  v1::Lead lead;
  lead.set_id("L-1");
  for (int i = 0; i < 40; ++i) {
    (*lead.mutable_attributes())["a" + std::to_string(i)].set_int_value(i);
  }
  std::string bytes = lead.SerializeAsString();
  v1::Lead again;
  (*again.mutable_attributes())["a3"].set_int_value(-3);
  (*again.mutable_attributes())["a39"].set_int_value(-39);
  bytes += again.SerializeAsString();
  LeadReader reader;
  ASSERT_TRUE(reader.Read(bytes, 100000).ok());
  std::map<std::string, int64_t> got;
  for (const auto& a : reader.attributes()) {
    got[std::string(a.name)] = std::get<int64_t>(a.value);
  }
  EXPECT_EQ(got.size(), 40u);
  EXPECT_EQ(got["a3"], -3);
  EXPECT_EQ(got["a39"], -39);
  EXPECT_EQ(got["a17"], 17);
}

TEST_F(LeadWireTest, OversizedLeadNamesItsLargestField) {
  v1::Lead lead;
  lead.set_id("L-1");
  (*lead.mutable_attributes())["notes"].set_string_value(std::string(500, 'n'));
  (*lead.mutable_attributes())["country"];  // no member: a later error
  LeadReader reader;
  const absl::Status s = reader.Read(lead.SerializeAsString(), 100);
  EXPECT_EQ(ErrorField(s), "attributes.notes");
  EXPECT_THAT(std::string(s.message()),
              testing::HasSubstr("the lead is 523 bytes, over the limit of "
                                 "100; its largest field is this one, 505"));
}

// A list's items cost memory as they are read, before the lead's size is
// known: 7 million empty items used to take most of a GiB. They stop at the
// limit, with the list named.
TEST_F(LeadWireTest, AHugeListStopsAtTheLimitWhileBeingRead) {
  v1::Lead lead;
  lead.set_id("L-1");
  auto* tags = (*lead.mutable_attributes())["tags"].mutable_list_value();
  for (int i = 0; i < 200000; ++i) tags->add_values("");
  LeadReader reader;
  const absl::Status s = reader.Read(lead.SerializeAsString(), 65536);
  EXPECT_EQ(ErrorField(s), "attributes.tags");
  EXPECT_THAT(std::string(s.message()),
              testing::HasSubstr("the lead's lists pass 65536 bytes, the limit "
                                 "for a whole lead, at this one's item 65537"));
  // Within the limit the same reader reads a list as before.
  tags->Clear();
  for (int i = 0; i < 100; ++i) tags->add_values("x");
  const std::string bytes = lead.SerializeAsString();  // the reader's views
  ASSERT_TRUE(reader.Read(bytes, 65536).ok());
  EXPECT_EQ(std::get<std::vector<std::string>>(
                reader.TakeLead().attributes.at("tags"))
                .size(),
            100u);
}

TEST_F(LeadWireTest, InvalidUtf8NamesTheField) {
  std::string lead, entry, value;
  Len(1, "L-\xff", &lead);
  LeadReader reader;
  EXPECT_EQ(ErrorField(reader.Read(lead, 1000)), "id");
  Len(1, "country", &entry);
  Len(1, "\xc0\xaf", &value);
  Len(2, value, &entry);
  lead.clear();
  Len(2, entry, &lead);
  EXPECT_EQ(ErrorField(reader.Read(lead, 1000)), "attributes.country");
}

TEST_F(LeadWireTest, SplitsBatchesAsProtobufDoes) {
  Generator gen(11);
  BatchRequestBytes batch;
  for (int i = 0; i < 5000; ++i) {
    std::string bytes;
    const int n = gen.Below(6);
    for (int j = 0; j < n; ++j) {
      switch (gen.Below(4)) {
        case 0: {
          v1::RouteOptions o;
          o.set_explain(gen.OneIn(2));
          if (gen.OneIn(2)) o.add_why_not(gen.Text());
          if (gen.OneIn(3)) o.mutable_received_at()->set_seconds(gen.Below(9));
          Len(2, o.SerializeAsString(), &bytes);
          break;
        }
        case 1:
          gen.Unknown(&bytes);
          break;
        default:
          Len(1, gen.Lead(), &bytes);
      }
    }
    if (gen.OneIn(3)) bytes = gen.Corrupt(bytes);
    ASSERT_EQ(CompareBatchSplit(bytes, &batch), "")
        << "input " << i << ": " << testing::PrintToString(bytes);
  }
}

TEST_F(LeadWireTest, SplitsRouteRequestsAsProtobufDoes) {
  Generator gen(12);
  RouteRequestBytes request;
  for (int i = 0; i < 5000; ++i) {
    std::string bytes;
    // Mostly one lead; sometimes none, or several (refused, naming "lead").
    const int n = gen.Below(5);
    for (int j = 0; j < n; ++j) {
      switch (gen.Below(5)) {
        case 0: {
          v1::RouteOptions o;
          o.set_explain(gen.OneIn(2));
          o.set_reroute(gen.OneIn(2));
          if (gen.OneIn(3)) o.mutable_received_at()->set_seconds(gen.Below(9));
          Len(2, o.SerializeAsString(), &bytes);
          break;
        }
        case 1:
          gen.Unknown(&bytes);
          break;
        default:
          Len(1, gen.Lead(), &bytes);
      }
    }
    if (gen.OneIn(3)) bytes = gen.Corrupt(bytes);
    ASSERT_EQ(CompareRouteSplit(bytes, &request), "")
        << "input " << i << ": " << testing::PrintToString(bytes);
  }
}

// --- Writing: AppendDecision against protobuf's serialisation of the
// message DecisionToProto builds, on random decisions.

runtime::Decision RandomDecision(Generator& gen) {
  auto text = [&gen] {
    static const char* const kTexts[] = {"", "r1", "team_emea", "L-1",
                                         "a rule name longer than fifteen"};
    return std::string(kTexts[gen.Below(5)]);
  };
  auto time = [&gen] {
    return absl::FromUnixSeconds(gen.Below(3) == 0 ? -86401 : 1700000000) +
           absl::Nanoseconds(gen.Below(2) * 123456789);
  };
  auto ref = [&] {
    return runtime::RuleRef{text(), text(), text(), gen.Below(3) - 1,
                            gen.Below(3) - 1};
  };
  runtime::Decision d;
  d.lead_id = text();
  d.owner = text();
  d.owner_kind = static_cast<runtime::OwnerKind>(gen.Below(4));
  d.team = text();
  if (gen.OneIn(2)) d.priority = runtime::Priority{text(), gen.Below(3)};
  if (gen.OneIn(2)) {
    d.sla =
        absl::Seconds(gen.Below(3) * 3600) + absl::Milliseconds(gen.Below(2));
  }
  if (gen.OneIn(2)) d.respond_by = time();
  d.channel = text();
  d.escalation = text();
  d.ruleset_name = text();
  d.ruleset_version = text();
  d.score = gen.Below(3) == 0 ? -gen.Below(1000) : gen.Below(1000);
  for (int i = gen.Below(6); i > 0; --i) d.decided_by.push_back(ref());
  if (gen.OneIn(4)) {
    d.explanation.emplace();
    for (int i = gen.Below(3); i > 0; --i) {
      d.explanation->stages.push_back({text(), ref(), {text(), text()}});
    }
    for (int i = gen.Below(3); i > 0; --i) {
      d.explanation->alternatives.push_back({ref(), text(), text()});
    }
  }
  d.replayed = gen.OneIn(3);
  d.repeat_of = text();
  if (gen.OneIn(3)) d.decision_id = "0123456789abcdef0123456789abcdef";
  if (gen.OneIn(2)) d.decided_at = time();
  for (int i = gen.Below(3); i > 0; --i) d.skipped.push_back(text());
  return d;
}

TEST_F(LeadWireTest, WritesDecisionsAsProtobufDoes) {
  Generator gen(42);
  const std::string id = "fedcba9876543210fedcba9876543210";
  for (int i = 0; i < 20000; ++i) {
    const runtime::Decision d = RandomDecision(gen);
    const DecisionExtras extras{id, gen.Below(3) * 1000000007LL,
                                gen.OneIn(2) ? "" : "00ff00ff00ff00ff"};
    v1::Decision want;
    DecisionToProto(d, &want);
    if (d.decision_id.empty()) want.set_decision_id(id);
    want.mutable_ruleset()->set_revision(extras.revision);
    want.mutable_ruleset()->set_fingerprint(std::string(extras.fingerprint));
    std::string got;
    AppendDecision(d, extras, &got);
    ASSERT_EQ(got, want.SerializeAsString()) << "decision " << i;
  }
}

TEST_F(LeadWireTest, WritesBatchResultsAsProtobufDoes) {
  Generator gen(43);
  v1::RouteBatchResponse want;
  std::string got, body;
  for (int i = 0; i < 300; ++i) {
    body.clear();
    if (gen.OneIn(3)) {
      const absl::Status error =
          gen.OneIn(2) ? InvalidFieldError("attributes.score",
                                           "expected int, got string")
                       : absl::DeadlineExceededError(std::string(200, 'x'));
      const std::string lead_id = gen.OneIn(2) ? "" : "L-7";
      v1::Error* e = want.add_results()->mutable_error();
      e->set_code(static_cast<int>(error.code()));
      e->set_message(std::string(error.message()));
      e->set_lead_id(lead_id);
      e->set_field(ErrorField(error));
      AppendError(error, lead_id, &body);
      AppendBatchResult(false, body, &got);
    } else {
      const runtime::Decision d = RandomDecision(gen);
      DecisionToProto(d, want.add_results()->mutable_decision());
      AppendDecision(d, {}, &body);
      AppendBatchResult(true, body, &got);
    }
  }
  EXPECT_EQ(got, want.SerializeAsString());
}

}  // namespace
}  // namespace leadroute
