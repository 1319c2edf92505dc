// The byte-level pushdown automaton a grammar compiles to.
//
// Every rule becomes a deterministic automaton whose edges read either one byte
// (from a range) or a *call* of another rule. A call edge optionally carries a
// repetition counter (min..max calls of the same rule in a row), which is how
// `x{1000,2000}` stays a few states instead of thousands. Calls are what makes it
// a pushdown automaton: the matcher (pushdown_matcher.h) keeps the return addresses
// on a graph-structured stack.
//
// States of all rules share one numbering; a state id is stable for a given
// grammar (rules in order, each rule's states in breadth-first order from its
// start with edges sorted), which is what the token-mask cache keys on.
//
// Lookahead assertions `(= ...)` are compiled separately into one plain byte DFA
// (`lookahead_*`). A rule with a lookahead, when it completes, attaches a *guard*
// to the continuing thread: the following bytes must run that DFA into a final
// state; the guard is dropped once they do and the thread dies if the DFA dies.
#ifndef XGRAM_AUTOMATON_H_
#define XGRAM_AUTOMATON_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "grammar_ir.h"

namespace xgram {

using StateId = int32_t;

struct ByteEdge {
  uint8_t lo;
  uint8_t hi;  // inclusive
  StateId target;
};

struct CallEdge {
  RuleId rule;
  StateId target;
  // Repetition counter: the rule is called `min_calls`..`max_calls` times in a
  // row before `target` (max_calls == kUnbounded: no limit). A plain call is 1..1.
  int32_t min_calls;
  int32_t max_calls;
  bool is_counted() const { return !(min_calls == 1 && max_calls == 1); }
};

struct AutomatonRule {
  std::string name;
  StateId start = kNone;
  StateId lookahead_start = kNone;  // in the lookahead DFA, or kNone
  bool nullable = false;
  bool is_helper = false;  // created for a counted repetition, not in the source grammar
};

// Target of the edge of `state` whose byte range holds `byte`, or kNone.
inline StateId FindEdge(const std::vector<int32_t>& begin, const std::vector<ByteEdge>& edges,
                        StateId state, uint8_t byte) {
  for (int32_t i = begin[state], end = begin[state + 1]; i < end; ++i) {
    const ByteEdge& e = edges[i];
    if (byte < e.lo) return kNone;  // edges are sorted by range
    if (byte <= e.hi) return e.target;
  }
  return kNone;
}

class Automaton {
 public:
  // Per state (CSR: edges of state s are [begin[s], begin[s+1])).
  std::vector<int32_t> byte_edge_begin;
  std::vector<ByteEdge> byte_edges;
  std::vector<int32_t> call_edge_begin;
  std::vector<CallEdge> call_edges;
  std::vector<uint8_t> is_final;
  std::vector<RuleId> state_rule;

  std::vector<AutomatonRule> rules;
  RuleId root = kNone;

  // Call sites of each rule: call_edges indices [call_site_begin[r], call_site_begin[r+1])
  // of call_site_edges, and the state each call edge leaves from.
  std::vector<int32_t> call_site_begin;
  std::vector<int32_t> call_site_edges;
  std::vector<StateId> call_edge_source;

  // The lookahead DFA: plain byte transitions, one start per rule that has one.
  std::vector<int32_t> lookahead_edge_begin;
  std::vector<ByteEdge> lookahead_edges;
  std::vector<uint8_t> lookahead_final;

  int32_t num_states() const { return static_cast<int32_t>(is_final.size()); }
  // Bytes held by the arrays above (their capacities) and the rules' names.
  size_t MemoryBytes() const {
    auto bytes = [](const auto& v) { return v.capacity() * sizeof(v[0]); };
    size_t total = sizeof(*this) + bytes(byte_edge_begin) + bytes(byte_edges) + bytes(call_edge_begin) +
                   bytes(call_edges) + bytes(is_final) + bytes(state_rule) + bytes(rules) +
                   bytes(call_site_begin) + bytes(call_site_edges) + bytes(call_edge_source) +
                   bytes(lookahead_edge_begin) + bytes(lookahead_edges) + bytes(lookahead_final) +
                   bytes(state_hash);
    for (const AutomatonRule& r : rules) total += r.name.capacity();
    return total;
  }
  // A hash of the whole structure: equal automata have equal fingerprints.
  uint64_t Fingerprint() const;

  // Canonical structural hash of each state: equal for states of any grammars
  // whose rules reachable downwards (the state's rule, its callees, their
  // lookaheads) are isomorphic, whatever the rule names and ids. The part of a
  // token-mask entry that does not depend on callers is shared under this key.
  std::vector<uint64_t> state_hash;

  // The state reached from `state` on `byte`, or kNone.
  StateId NextByte(StateId state, uint8_t byte) const {
    return FindEdge(byte_edge_begin, byte_edges, state, byte);
  }
  StateId NextLookaheadByte(StateId state, uint8_t byte) const {
    return FindEdge(lookahead_edge_begin, lookahead_edges, state, byte);
  }
  bool HasByteEdges(StateId s) const { return byte_edge_begin[s] < byte_edge_begin[s + 1]; }
  // Neither final nor calling: a thread here moves on byte edges alone, so the
  // mask walk and the matcher's fast path can step it without a closure.
  bool IsSimple(StateId s) const { return !is_final[s] && call_edge_begin[s] == call_edge_begin[s + 1]; }
};

using AutomatonPtr = std::shared_ptr<const Automaton>;

struct CompileLimits {
  int64_t max_states = 2'000'000;  // DFA states over all rules
  double max_seconds = 30.0;
  // Repetitions up to this count are unrolled into states; larger ones use counters.
  int32_t max_unrolled_repeat = 16;
};

// Fills `automaton->state_hash` (automaton_hash.cc); called by BuildAutomaton.
void ComputeStateHashes(Automaton* automaton);

// The limits used when a grammar builds its automaton; process-wide, settable
// from Python (xgram.set_compile_limits).
CompileLimits DefaultCompileLimits();
void SetDefaultCompileLimits(const CompileLimits& limits);

// Builds the automaton of a (normalised) grammar. Throws GrammarError when the
// grammar accepts nothing or a lookahead is not regular, CompileBudgetError when
// a limit is exceeded.
AutomatonPtr BuildAutomaton(const Grammar& grammar, const CompileLimits& limits = {});

}  // namespace xgram

#endif  // XGRAM_AUTOMATON_H_
