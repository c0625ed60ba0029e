// The messages for the grammar's `must` points: error_message<Rule> is the
// text a rule author reads when Rule was required and is missing. Rules
// without a message are not error points.
#ifndef LEADROUTE_GRAMMAR_ROUTE_ERRORS_H_
#define LEADROUTE_GRAMMAR_ROUTE_ERRORS_H_

#include "grammar/route_grammar.h"

namespace leadroute::grammar {

template <typename Rule>
inline constexpr const char* error_message = nullptr;

// clang-format off
template<> inline constexpr const char* error_message< string_close > = "unterminated string: expected a closing `\"` on the same line";
template<> inline constexpr const char* error_message< list_close > = "expected `,` or `]` in the list";
template<> inline constexpr const char* error_message< ruleset_name > = "expected the ruleset's name as a quoted string, e.g. ruleset \"acme-inbound\" version \"1\"";
template<> inline constexpr const char* error_message< version_clause > = "expected `version \"...\"` after the ruleset's name";
template<> inline constexpr const char* error_message< ruleset_version > = "expected the version as a quoted string, e.g. version \"2026.11\"";
template<> inline constexpr const char* error_message< include_path > = "expected the file to include as a quoted path, e.g. include \"teams.route\"";
template<> inline constexpr const char* error_message< open_brace > = "expected `{`";
template<> inline constexpr const char* error_message< close_brace > = "expected `}` to close the block";
template<> inline constexpr const char* error_message< enum_values > = "expected the enum's values, e.g. enum { smb, mid_market, enterprise }";
template<> inline constexpr const char* error_message< attr_colon > = "expected `:` and a type after the attribute's name, e.g. country: string";
template<> inline constexpr const char* error_message< attr_type > = "expected a type: string, int, number, bool, time, list or enum { ... }";
template<> inline constexpr const char* error_message< default_value > = "expected the default value after `default`";
template<> inline constexpr const char* error_message< kw_unknown > = "expected `unknown` after `on`, e.g. source: enum { web, partner, other } on unknown other";
template<> inline constexpr const char* error_message< unknown_value > = "expected the enum value an unknown one becomes, e.g. source: enum { web, partner, other } on unknown other";
template<> inline constexpr const char* error_message< prop_equals > = "expected `=` after the property's name";
template<> inline constexpr const char* error_message< prop_value > = "expected a value: a string, number, duration, true/false, name, list [ ... ] or working hours like mon-fri 09:00-17:00";
template<> inline constexpr const char* error_message< entity_name > = "expected a name (letters, digits and _, not starting with a digit)";
template<> inline constexpr const char* error_message< entity_body > = "expected `{` and the properties";
template<> inline constexpr const char* error_message< table_name > = "expected the table's name";
template<> inline constexpr const char* error_message< table_signature > = "expected the table's key and value types, e.g. table region: string -> string";
template<> inline constexpr const char* error_message< key_type > = "expected the key type: string, int, number or bool";
template<> inline constexpr const char* error_message< arrow > = "expected `->` between the key and value types";
template<> inline constexpr const char* error_message< value_type > = "expected the value type: string, int, number, bool, rep or team";
template<> inline constexpr const char* error_message< table_source > = "expected the entries in { ... } or `from csv \"file.csv\" key \"column\" value \"column\"`";
template<> inline constexpr const char* error_message< kw_case > = "expected `case`, as in `ignoring case` or `matching case`";
template<> inline constexpr const char* error_message< entry_colon > = "expected `:` between the entry's key and value";
template<> inline constexpr const char* error_message< entry_value > = "expected the entry's value";
template<> inline constexpr const char* error_message< kw_csv > = "expected `csv` after `from`";
template<> inline constexpr const char* error_message< csv_path > = "expected the CSV file's path as a quoted string";
template<> inline constexpr const char* error_message< kw_key > = "expected `key \"column\"`";
template<> inline constexpr const char* error_message< csv_key_column > = "expected the key column's name as a quoted string";
template<> inline constexpr const char* error_message< kw_value > = "expected `value \"column\"`";
template<> inline constexpr const char* error_message< csv_value_column > = "expected the value column's name as a quoted string";
template<> inline constexpr const char* error_message< call_args > = "expected the call's arguments";
template<> inline constexpr const char* error_message< call_close > = "expected `,` or `)` in the call";
template<> inline constexpr const char* error_message< single_equals > = "`=` is not a comparison: use `==`";
template<> inline constexpr const char* error_message< rhs > = "expected a value to compare with";
template<> inline constexpr const char* error_message< set > = "expected a list [ ... ] or a table's name after `in`";
template<> inline constexpr const char* error_message< between_and > = "expected `and` between the bounds, e.g. employees between 200 and 999";
template<> inline constexpr const char* error_message< duration_lit > = "expected a duration such as 15m, 1h, 48h or 2d";
template<> inline constexpr const char* error_message< attr_ref > = "expected an attribute's name";
template<> inline constexpr const char* error_message< expr > = "expected a condition";
template<> inline constexpr const char* error_message< not_expr > = "expected a condition after `not`";
template<> inline constexpr const char* error_message< paren_close > = "expected `)` to close the parenthesis";
template<> inline constexpr const char* error_message< target > = "expected an outcome: rep NAME, team NAME, queue NAME, a lookup, a label, a duration or +/- points";
template<> inline constexpr const char* error_message< member_tests > = "expected a test of the team's members after `where`, e.g. seniority >= senior or languages contains \"fr\"";
template<> inline constexpr const char* error_message< member_op > = "expected a comparison: ==, !=, <, <=, >, >= (seniority) or contains (skills, languages)";
template<> inline constexpr const char* error_message< member_value > = "expected a seniority level, a quoted string or an attribute's name";
template<> inline constexpr const char* error_message< rule_name > = "expected the rule's name, e.g. rule enterprise_emea when ...";
template<> inline constexpr const char* error_message< rule_when > = "expected `when` and a condition after the rule's name";
template<> inline constexpr const char* error_message< condition_expr > = "expected a condition after `when`";
template<> inline constexpr const char* error_message< rule_then > = "expected `then` and an outcome after the condition (or `and`/`or` to continue it)";
template<> inline constexpr const char* error_message< outcome > = "expected an outcome";
template<> inline constexpr const char* error_message< sticky_window > = "expected how long repeat leads stick after `sticky`, e.g. sticky 30d, sticky 90d anywhere or sticky off";
template<> inline constexpr const char* error_message< allow_codes > = "expected the finding to accept after `allow`, e.g. allow overlap \"a priority ladder: first match wins\"";
template<> inline constexpr const char* error_message< allow_reason > = "expected the reason as a quoted string, e.g. allow overlap \"a priority ladder: first match wins\"";
template<> inline constexpr const char* error_message< label > = "expected a priority label, e.g. labels urgent > high > normal > low";
template<> inline constexpr const char* error_message< stage_item > = "expected `rule NAME when ... then ...`, `otherwise ...`, `labels ...`, `allow ...` or `}`";
template<> inline constexpr const char* error_message< stage_body > = "expected `{` to open the stage";
template<> inline constexpr const char* error_message< given_rep_state > = "expected the rep's state: available, away, ooo, or open N (open leads), e.g. rep maya away";
template<> inline constexpr const char* error_message< given_last > = "expected `last REP` after the team's name: the rep who had the team's last lead, e.g. team na last sam";
template<> inline constexpr const char* error_message< test_name > = "expected the test's name as a quoted string";
template<> inline constexpr const char* error_message< string_lit > = "expected a quoted string";
template<> inline constexpr const char* error_message< expect_name > = "expected an output to check: owner, priority, sla, channel, escalation or score";
template<> inline constexpr const char* error_message< percent > = "expected a share of the SLA such as 80% or 100%";
template<> inline constexpr const char* error_message< step_action > = "expected `notify` or `reassign to ...` after the percentage";
template<> inline constexpr const char* error_message< kw_to > = "expected `to` and where the lead goes, e.g. reassign to next_rep else queue triage";
template<> inline constexpr const char* error_message< escalation_body > = "expected `{` and the escalation's steps, e.g. at 80% notify";
template<> inline constexpr const char* error_message< declaration > = "expected a declaration: ruleset, include, schema, rep, team, queue, table, escalation, score, assign, priority, sla, channel, escalate or test";
// clang-format on

}  // namespace leadroute::grammar

#endif  // LEADROUTE_GRAMMAR_ROUTE_ERRORS_H_
