// The PEGTL grammar of .route files, and nothing else: no actions, no
// semantics. compiler/parse.cc runs it into a parse tree; the error messages
// for the named `must` points live beside it in route_errors.h.
//
// Shape of a file: declarations, one after another, in any order:
//   ruleset "acme-inbound" version "2026.11"
//   include "teams.route"
//   schema { country: string required ... }
//   rep ana { timezone = "Europe/Paris" ... }
//   team emea { members = [ana, bruno] strategy = round_robin }
//   queue triage
//   table region: string -> string { "DE": "EMEA" ... }
//   score { rule big when employees >= 1000 then +30 }
//   assign { rule x when ... then team a else queue q  otherwise queue q }
//   assign { rule y when ... then team a where seniority >= senior ... }
//   assign { rule z when ... then team a sticky 30d }
//   priority { allow overlap "a ladder"  rule ... allow never_fires "..." }
//   priority { labels urgent > high > normal  rule ... otherwise normal }
//   sla { ... }  channel { ... }
//   escalation standard { at 80% notify  at 100% reassign to next_rep else
//   queue q } escalate { rule hot when priority == urgent then fast  otherwise
//   standard } test "name" { at "..." given { rep a away  rep b open 3
//   team t last b } lead { ... } expect { ... } }
// Recovery: a declaration, or a rule inside a stage, that fails at a `must`
// point is abandoned (try_catch) and the input is skipped to the next line
// that can start one, so one file yields all of its errors.
#ifndef LEADROUTE_GRAMMAR_ROUTE_GRAMMAR_H_
#define LEADROUTE_GRAMMAR_ROUTE_GRAMMAR_H_

#include <tao/pegtl.hpp>

namespace leadroute::grammar {

namespace pegtl = tao::pegtl;
using pegtl::any;
using pegtl::at;
using pegtl::blank;
using pegtl::digit;
using pegtl::eof;
using pegtl::eol;
using pegtl::eolf;
using pegtl::identifier_other;
using pegtl::if_must;
using pegtl::list;
using pegtl::minus;
using pegtl::must;
using pegtl::not_at;
using pegtl::not_one;
using pegtl::one;
using pegtl::opt;
using pegtl::plus;
using pegtl::range;
using pegtl::rep;
using pegtl::seq;
using pegtl::sor;
using pegtl::space;
using pegtl::star;
using pegtl::string;
using pegtl::try_catch;
using pegtl::until;
using pegtl::xdigit;

// clang-format off

// ---- Lexical ------------------------------------------------------------
struct comment : seq< one< '#' >, until< eolf > > {};
// The rest of a line with its line break, or the rest of the input; never
// empty, so recovery loops always make progress.
struct skip_line : sor< seq< star< not_one< '\n' > >, one< '\n' > >, plus< any > > {};
struct ws : star< sor< space, comment > > {};
template< typename Key > struct key : seq< Key, not_at< identifier_other > > {};

struct kw_and : key< TAO_PEGTL_STRING( "and" ) > {};
struct kw_or : key< TAO_PEGTL_STRING( "or" ) > {};
struct kw_not : key< TAO_PEGTL_STRING( "not" ) > {};
struct kw_in : key< TAO_PEGTL_STRING( "in" ) > {};
struct kw_has : key< TAO_PEGTL_STRING( "has" ) > {};
struct kw_between : key< TAO_PEGTL_STRING( "between" ) > {};
struct kw_within : key< TAO_PEGTL_STRING( "within" ) > {};
struct kw_true : key< TAO_PEGTL_STRING( "true" ) > {};
struct kw_false : key< TAO_PEGTL_STRING( "false" ) > {};
struct kw_when : key< TAO_PEGTL_STRING( "when" ) > {};
struct kw_then : key< TAO_PEGTL_STRING( "then" ) > {};
struct kw_else : key< TAO_PEGTL_STRING( "else" ) > {};
struct kw_rule : key< TAO_PEGTL_STRING( "rule" ) > {};
struct kw_otherwise : key< TAO_PEGTL_STRING( "otherwise" ) > {};
struct kw_labels : key< TAO_PEGTL_STRING( "labels" ) > {};
struct kw_rep : key< TAO_PEGTL_STRING( "rep" ) > {};
struct kw_team : key< TAO_PEGTL_STRING( "team" ) > {};
struct kw_queue : key< TAO_PEGTL_STRING( "queue" ) > {};
struct kw_required : key< TAO_PEGTL_STRING( "required" ) > {};
struct kw_pii : key< TAO_PEGTL_STRING( "pii" ) > {};
struct kw_default : key< TAO_PEGTL_STRING( "default" ) > {};
struct kw_enum : key< TAO_PEGTL_STRING( "enum" ) > {};
struct kw_on : key< TAO_PEGTL_STRING( "on" ) > {};
struct kw_unknown : key< TAO_PEGTL_STRING( "unknown" ) > {};
struct kw_from : key< TAO_PEGTL_STRING( "from" ) > {};
struct kw_csv : key< TAO_PEGTL_STRING( "csv" ) > {};
struct kw_key : key< TAO_PEGTL_STRING( "key" ) > {};
struct kw_value : key< TAO_PEGTL_STRING( "value" ) > {};
struct kw_lead : key< TAO_PEGTL_STRING( "lead" ) > {};
struct kw_expect : key< TAO_PEGTL_STRING( "expect" ) > {};
struct kw_at : key< TAO_PEGTL_STRING( "at" ) > {};
struct kw_given : key< TAO_PEGTL_STRING( "given" ) > {};
struct kw_open : key< TAO_PEGTL_STRING( "open" ) > {};
struct kw_last : key< TAO_PEGTL_STRING( "last" ) > {};
struct kw_version : key< TAO_PEGTL_STRING( "version" ) > {};
struct kw_ruleset : key< TAO_PEGTL_STRING( "ruleset" ) > {};
struct kw_include : key< TAO_PEGTL_STRING( "include" ) > {};
struct kw_schema : key< TAO_PEGTL_STRING( "schema" ) > {};
struct kw_table : key< TAO_PEGTL_STRING( "table" ) > {};
struct kw_test : key< TAO_PEGTL_STRING( "test" ) > {};
struct kw_escalation : key< TAO_PEGTL_STRING( "escalation" ) > {};
struct stage_kind : sor< key< TAO_PEGTL_STRING( "score" ) >, key< TAO_PEGTL_STRING( "assign" ) >,
                         key< TAO_PEGTL_STRING( "priority" ) >, key< TAO_PEGTL_STRING( "sla" ) >,
                         key< TAO_PEGTL_STRING( "channel" ) >, key< TAO_PEGTL_STRING( "escalate" ) > > {};
struct declaration_start : sor< kw_ruleset, kw_include, kw_schema, kw_rep, kw_team, kw_queue,
                                kw_table, kw_escalation, stage_kind, kw_test > {};
// Where recovery resumes after a broken declaration: a declaration keyword at
// the start of a line.
struct top_sync : seq< pegtl::bol, declaration_start > {};

// Words that can never name an attribute, rep, team or table.
struct reserved : sor< kw_and, kw_or, kw_not, kw_in, kw_has, kw_between, kw_within,
                       kw_true, kw_false, kw_when, kw_then, kw_else, kw_rule,
                       kw_otherwise > {};
struct name : seq< not_at< reserved >, pegtl::identifier > {};

struct escape : seq< one< '\\' >, sor< one< '"', '\\', 'n', 't', 'r' >,
                                       seq< one< 'u' >, rep< 4, xdigit > > > > {};
struct string_char : sor< escape, not_one< '"', '\\', '\n', '\r' > > {};
struct string_close : one< '"' > {};
struct string_lit : if_must< one< '"' >, star< string_char >, string_close > {};

struct duration_unit : one< 'd', 'h', 'm', 's' > {};
struct duration_lit : seq< plus< plus< digit >, duration_unit >, not_at< identifier_other > > {};
struct number_lit : seq< opt< one< '-' > >, plus< digit >, opt< one< '.' >, plus< digit > >,
                         not_at< identifier_other > > {};
struct bool_lit : sor< kw_true, kw_false > {};
struct list_close : one< ']' > {};
struct value;
struct list_lit : if_must< one< '[' >, ws, opt< list< value, seq< ws, one< ',' >, ws > >, ws,
                                               opt< one< ',' >, ws > >, list_close > {};
// A literal, or a bare name standing for an enum value, label or rep.
struct value : sor< string_lit, duration_lit, number_lit, bool_lit, list_lit, name > {};

// ---- ruleset, include ---------------------------------------------------
struct ruleset_name : string_lit {};
struct ruleset_version : string_lit {};
struct version_clause : if_must< kw_version, ws, ruleset_version > {};
struct entity_body;
// Optional settings after the version: ruleset "x" version "1" { removed_reps = reassign }
struct ruleset_decl : if_must< kw_ruleset, ws, ruleset_name, ws, version_clause, opt< ws, entity_body > > {};

struct include_path : string_lit {};
struct include_decl : if_must< kw_include, ws, include_path > {};

// ---- schema -------------------------------------------------------------
struct open_brace : one< '{' > {};
struct close_brace : one< '}' > {};
struct type_name : sor< key< TAO_PEGTL_STRING( "string" ) >, key< TAO_PEGTL_STRING( "int" ) >,
                        key< TAO_PEGTL_STRING( "number" ) >, key< TAO_PEGTL_STRING( "bool" ) >,
                        key< TAO_PEGTL_STRING( "time" ) >, key< TAO_PEGTL_STRING( "list" ) >,
                        key< TAO_PEGTL_STRING( "rep" ) >, key< TAO_PEGTL_STRING( "team" ) > > {};
struct enum_value : name {};
struct enum_values : list< enum_value, seq< ws, one< ',' >, ws > > {};
struct enum_type : if_must< kw_enum, ws, open_brace, ws, enum_values, ws, opt< one< ',' >, ws >, close_brace > {};
struct attr_type : sor< enum_type, type_name > {};
struct required_mod : kw_required {};
// Personal data: masked wherever leadroute writes the lead (`pii:` starts
// the next attribute, named pii).
struct pii_mod : seq< kw_pii, not_at< ws, one< ':' > > > {};
struct default_value : value {};
struct default_mod : if_must< kw_default, ws, default_value > {};
// `on unknown VALUE`: an enum value the lead gives that the enum lacks
// becomes VALUE instead of failing the lead.
struct unknown_value : name {};
// (`on:` starts the next attribute, named on.)
struct on_unknown_mod : seq< kw_on, ws, not_at< one< ':' > >, must< kw_unknown >, ws, must< unknown_value > > {};
struct attr_modifier : sor< required_mod, pii_mod, default_mod, on_unknown_mod > {};
struct attr_name : name {};
struct attr_colon : one< ':' > {};
struct attr_decl : if_must< attr_name, ws, attr_colon, ws, attr_type, star< ws, attr_modifier > > {};
struct schema_decl : if_must< kw_schema, ws, open_brace, ws, star< attr_decl, ws >, close_brace > {};

// ---- reps, teams, queues ------------------------------------------------
struct day : sor< TAO_PEGTL_STRING( "mon" ), TAO_PEGTL_STRING( "tue" ), TAO_PEGTL_STRING( "wed" ),
                  TAO_PEGTL_STRING( "thu" ), TAO_PEGTL_STRING( "fri" ), TAO_PEGTL_STRING( "sat" ),
                  TAO_PEGTL_STRING( "sun" ) > {};
struct day_range : seq< day, opt< one< '-' >, day >, not_at< identifier_other > > {};
struct clock : seq< digit, digit, one< ':' >, digit, digit > {};
struct clock_range : seq< clock, one< '-' >, clock > {};
struct hours_span : seq< day_range, plus< blank >, clock_range > {};
struct hours_spec : list< hours_span, seq< ws, one< ',' >, ws > > {};
struct prop_name : name {};
struct prop_equals : one< '=' > {};
struct prop_value : sor< hours_spec, value > {};
struct property : if_must< prop_name, ws, prop_equals, ws, prop_value > {};
struct entity_body : if_must< open_brace, ws, star< property, ws >, close_brace > {};
struct entity_name : name {};
struct rep_decl : if_must< kw_rep, ws, entity_name, ws, entity_body > {};
struct team_decl : if_must< kw_team, ws, entity_name, ws, entity_body > {};
struct queue_decl : if_must< kw_queue, ws, entity_name > {};

// ---- tables -------------------------------------------------------------
struct table_name : name {};
struct key_type : type_name {};
struct value_type : type_name {};
struct arrow : TAO_PEGTL_STRING( "->" ) {};
struct table_signature : if_must< one< ':' >, ws, key_type, ws, arrow, ws, value_type > {};
struct entry_key : value {};
struct entry_value : value {};
struct entry_colon : one< ':' > {};
struct table_entry : if_must< entry_key, ws, entry_colon, ws, entry_value, opt< ws, one< ',' > > > {};
struct table_entries : if_must< open_brace, ws, star< table_entry, ws >, close_brace > {};
struct csv_path : string_lit {};
struct csv_key_column : string_lit {};
struct csv_value_column : string_lit {};
struct table_csv : if_must< kw_from, ws, kw_csv, ws, csv_path, ws, kw_key, ws, csv_key_column,
                            ws, kw_value, ws, csv_value_column > {};
struct table_source : sor< table_entries, table_csv > {};
// `ignoring case` / `matching case` after the signature: how string keys
// are compared (the default: ignoring case for domains and emails).
struct kw_case : key< TAO_PEGTL_STRING( "case" ) > {};
struct case_ignoring : if_must< key< TAO_PEGTL_STRING( "ignoring" ) >, ws, kw_case > {};
struct case_matching : if_must< key< TAO_PEGTL_STRING( "matching" ) >, ws, kw_case > {};
struct table_case : sor< case_ignoring, case_matching > {};
struct table_decl : if_must< kw_table, ws, table_name, ws, table_signature, ws, opt< table_case, ws >,
                             table_source > {};

// ---- conditions ---------------------------------------------------------
struct expr;
struct operand;
struct call_args : opt< list< operand, seq< ws, one< ',' >, ws > > > {};
struct call_close : one< ')' > {};
struct call : seq< name, one< '(' >, ws, must< call_args, ws, call_close > > {};
struct attr_ref : name {};
struct operand : sor< call, string_lit, duration_lit, number_lit, bool_lit, attr_ref > {};
struct op_eq : TAO_PEGTL_STRING( "==" ) {};
struct op_ne : TAO_PEGTL_STRING( "!=" ) {};
struct op_le : TAO_PEGTL_STRING( "<=" ) {};
struct op_ge : TAO_PEGTL_STRING( ">=" ) {};
struct op_lt : one< '<' > {};
struct op_gt : one< '>' > {};
struct op_starts_with : key< TAO_PEGTL_STRING( "starts_with" ) > {};
struct op_ends_with : key< TAO_PEGTL_STRING( "ends_with" ) > {};
struct op_contains : key< TAO_PEGTL_STRING( "contains" ) > {};
// A lone `=` where a comparison was meant: a targeted error, not a vague one.
struct single_equals : seq< one< '=' >, not_at< one< '=' > > > {};
struct assignment_in_condition : seq< at< single_equals >, pegtl::raise< single_equals > > {};
struct binary_op : sor< assignment_in_condition, op_eq, op_ne, op_le, op_ge, op_lt, op_gt, op_starts_with, op_ends_with,
                        op_contains > {};
struct rhs : operand {};
struct set_ref : name {};
struct set : sor< list_lit, set_ref > {};
struct op_in : kw_in {};
struct op_not_in : seq< kw_not, ws, kw_in > {};
struct in_test : if_must< sor< op_not_in, op_in >, ws, set > {};
struct between_and : kw_and {};
struct between_test : if_must< kw_between, ws, rhs, ws, between_and, ws, rhs > {};
struct within_test : if_must< kw_within, ws, duration_lit > {};
struct binary_test : if_must< binary_op, ws, rhs > {};
struct comparison : seq< operand, opt< ws, sor< in_test, between_test, within_test, binary_test > > > {};
struct has_test : if_must< kw_has, ws, attr_ref > {};
struct paren_close : one< ')' > {};
struct paren_expr : if_must< one< '(' >, ws, expr, ws, paren_close > {};
struct condition : sor< paren_expr, has_test, comparison > {};
struct not_expr;
struct negation : if_must< kw_not, ws, not_expr > {};
struct not_expr : sor< negation, condition > {};
struct and_expr : list< not_expr, seq< ws, kw_and, ws > > {};
struct or_expr : list< and_expr, seq< ws, kw_or, ws > > {};
struct expr : or_expr {};

// ---- stages -------------------------------------------------------------
struct target_rep : if_must< kw_rep, ws, entity_name > {};
// `team NAME where seniority >= senior and languages contains language`:
// which members may take the lead.
struct kw_where : key< TAO_PEGTL_STRING( "where" ) > {};
struct member_property : name {};
struct member_op : sor< op_eq, op_ne, op_le, op_ge, op_lt, op_gt, op_contains > {};
struct member_value : sor< string_lit, name > {};
struct member_test : if_must< member_property, ws, member_op, ws, member_value > {};
struct member_tests : list< member_test, seq< ws, kw_and, ws > > {};
struct member_filter : if_must< kw_where, ws, member_tests > {};
struct target_team : if_must< kw_team, ws, entity_name, opt< ws, member_filter > > {};
struct target_queue : if_must< kw_queue, ws, entity_name > {};
struct score_delta : seq< one< '+', '-' >, plus< digit >, not_at< identifier_other > > {};
struct target : sor< target_rep, target_team, target_queue, score_delta, duration_lit, number_lit,
                     call, string_lit, name > {};
struct fallback : if_must< kw_else, ws, target > {};
struct outcome : seq< target, star< ws, fallback > > {};
struct rule_name : name {};
struct condition_expr : expr {};
struct rule_then : kw_then {};
struct rule_when : kw_when {};
// `sticky 30d`, `sticky off` or `sticky 90d anywhere` after an assign
// rule's outcome: whether a repeat lead from the same email goes to the rep
// who had the last one.
struct kw_sticky : key< TAO_PEGTL_STRING( "sticky" ) > {};
struct sticky_off : key< TAO_PEGTL_STRING( "off" ) > {};
struct sticky_anywhere : key< TAO_PEGTL_STRING( "anywhere" ) > {};
struct sticky_window : sor< duration_lit, sticky_off > {};
struct sticky_clause : if_must< kw_sticky, ws, sticky_window, opt< star< blank >, sticky_anywhere > > {};
// `allow overlap "a priority ladder: first match wins"`: accepts a finding
// of `check` with a reason. After a rule, for that rule; at the top of a
// stage (before its first rule), for the whole stage.
struct kw_allow : key< TAO_PEGTL_STRING( "allow" ) > {};
struct allow_code : name {};
struct allow_codes : list< allow_code, seq< ws, one< ',' >, ws > > {};
struct allow_reason : string_lit {};
struct allow_clause : if_must< kw_allow, ws, allow_codes, ws, allow_reason > {};
struct rule_decl : if_must< kw_rule, ws, rule_name, ws, rule_when, ws, condition_expr, ws, rule_then, ws, outcome,
                            opt< ws, sticky_clause >, opt< ws, allow_clause > > {};
struct otherwise_decl : if_must< kw_otherwise, ws, outcome, opt< ws, sticky_clause >, opt< ws, allow_clause > > {};
struct label : name {};
struct labels_decl : if_must< kw_labels, ws, list< label, seq< ws, one< '>' >, ws > > > {};
struct stage_item : sor< labels_decl, rule_decl, otherwise_decl, allow_clause > {};
// After a broken rule: skip to the next line that starts a stage item, closes
// the stage, or starts a declaration.
struct item_start : sor< kw_rule, kw_otherwise, kw_labels, kw_allow, close_brace > {};
struct skip_item : seq< skip_line, star< not_at< star< blank >, item_start >, not_at< top_sync >, skip_line > > {};
struct recovered_item : seq< not_at< close_brace >, not_at< top_sync >, skip_item > {};
// Text in a stage that starts no item: raises its own error, then recovers.
struct stray_item : seq< not_at< item_start >, not_at< top_sync >, not_at< eof >, must< stage_item > > {};
struct stage_body : if_must< open_brace, ws, star< sor< try_catch< stage_item >, try_catch< stray_item >, recovered_item >, ws >, close_brace > {};
struct stage_decl : if_must< stage_kind, ws, stage_body > {};

// ---- escalations --------------------------------------------------------
// `at 80% notify [manager]`, `at 100% reassign to next_rep else queue q`,
// and properties (max_hops = 2, clock = business_hours).
struct kw_notify : key< TAO_PEGTL_STRING( "notify" ) > {};
struct kw_reassign : key< TAO_PEGTL_STRING( "reassign" ) > {};
struct kw_to : key< TAO_PEGTL_STRING( "to" ) > {};
struct percent : seq< plus< digit >, one< '%' > > {};
struct notify_whom : sor< key< TAO_PEGTL_STRING( "manager" ) >, key< TAO_PEGTL_STRING( "owner" ) > > {};
struct notify_step : seq< kw_notify, opt< star< blank >, notify_whom > > {};
struct reassign_step : if_must< kw_reassign, ws, kw_to, ws, outcome > {};
struct step_action : sor< notify_step, reassign_step > {};
struct escalation_step : if_must< kw_at, ws, percent, ws, step_action > {};
struct escalation_item : sor< escalation_step, property > {};
struct escalation_body : if_must< open_brace, ws, star< escalation_item, ws >, close_brace > {};
struct escalation_decl : if_must< kw_escalation, ws, entity_name, ws, escalation_body > {};

// ---- tests --------------------------------------------------------------
struct test_name : string_lit {};
struct test_at : if_must< kw_at, ws, string_lit > {};
struct test_lead : if_must< kw_lead, ws, entity_body > {};
struct expect_name : name {};
struct expect_item : if_must< expect_name, ws, prop_equals, ws, target > {};
struct test_expect : if_must< kw_expect, ws, open_brace, ws, star< expect_item, ws >, close_brace > {};
// given { rep maya away   rep sam open 3   team na last sam }
struct given_open : seq< kw_open, ws, number_lit > {};
struct given_status : name {};
struct given_rep_state : sor< given_open, given_status > {};
struct given_rep : if_must< kw_rep, ws, entity_name, ws, given_rep_state > {};
struct given_last : if_must< kw_last, ws, entity_name > {};
struct given_team : if_must< kw_team, ws, entity_name, ws, given_last > {};
struct given_item : sor< given_rep, given_team > {};
struct test_given : if_must< kw_given, ws, open_brace, ws, star< given_item, ws >, close_brace > {};
struct test_part : sor< test_at, test_given, test_lead, test_expect > {};
struct test_decl : if_must< kw_test, ws, test_name, ws, open_brace, ws, star< test_part, ws >, close_brace > {};

// ---- file ---------------------------------------------------------------
struct declaration : sor< ruleset_decl, include_decl, schema_decl, rep_decl, team_decl,
                          queue_decl, table_decl, escalation_decl, stage_decl, test_decl > {};
// After a broken declaration: skip to the next line that starts one.
struct recovered_declaration : seq< skip_line, star< not_at< top_sync >, skip_line > > {};
// Text that starts no declaration: raises its own error, then recovers.
struct stray_declaration : seq< not_at< declaration_start >, not_at< eof >, must< declaration > > {};
struct file : seq< ws, star< sor< try_catch< declaration >, try_catch< stray_declaration >, recovered_declaration >, ws >, eof > {};

// clang-format on

}  // namespace leadroute::grammar

#endif  // LEADROUTE_GRAMMAR_ROUTE_GRAMMAR_H_
