// The checking passes, one per file, in the order compiler.cc runs them.
// Each reports the rule author's mistakes to `diagnostics` and records what
// later passes need in the Module. What several passes share is in
// pass_helpers.h.
#ifndef LEADROUTE_COMPILER_PASSES_H_
#define LEADROUTE_COMPILER_PASSES_H_

#include <vector>

#include "compiler/diagnostic.h"
#include "compiler/lower_to_tree.h"
#include "compiler/module.h"

namespace leadroute::compiler {

// Every `allow CODE "reason"`, checked (a known finding, one that can be
// accepted at that level, a reason) and given to `diagnostics`, so that the
// findings it accepts are recorded as allowed rather than shown.
void CollectAllowances(const Module& module, Diagnostics* diagnostics);

// Symbol tables; duplicates; the ruleset header; undefined reps, teams,
// queues, tables, attributes and functions (with "did you mean" hints).
void ResolveNames(Module* module, Diagnostics* diagnostics);

// Rows of every table, inline or from a CSV file beside the rule file; key
// and value types; duplicate keys; rep/team values that name nothing.
void LoadTables(Module* module, Diagnostics* diagnostics);

// Rep and team properties: time zones (IANA, via Abseil), working hours,
// capacities, weights, strategies, members.
void CheckEntities(const Module& module, Diagnostics* diagnostics);

// Escalation policies: their steps' shares of the SLA, where they move a
// lead (next_rep, manager, rep, team, queue), max_hops and clock; unused
// ones.
void CheckEscalations(const Module& module, Diagnostics* diagnostics);

// Types of every condition and default value; enum values and labels.
void CheckTypes(const Module& module, Diagnostics* diagnostics);

// Stage shape: `otherwise` at most once, and last; outcomes that fit the
// stage (a team for assign, a label for priority, a duration for sla, ...).
void CheckStages(const Module& module, Diagnostics* diagnostics);

// Test blocks: lead attributes that exist and fit their types, required
// ones present, expectations that name real outputs.
void CheckTests(const Module& module, Diagnostics* diagnostics);

// What building the decision trees revealed, as warnings at the rules:
// rules that never fire (naming the rules that take their leads), rules
// whose conditions contradict, overlapping rules where order silently
// decides, stages some leads fall through, trees over the size budget.
void AnalyzeRules(const Module& module,
                  const std::vector<TreeFinding>& findings,
                  Diagnostics* diagnostics);

}  // namespace leadroute::compiler

#endif  // LEADROUTE_COMPILER_PASSES_H_
