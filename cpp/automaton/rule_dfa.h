// Per-rule automata for the automaton builder (automaton_builder.cc): the NFA
// and DFA containers and the classic algorithms over them.
//
//   Determinize  subset construction; byte edges are split into elementary
//                intervals and each interval's NFA targets gathered in one
//                counting pass, call symbols are letters. Subsets are keyed by
//                their states that read (see Nfa::Reads), and the NFA's edges
//                skip chains of epsilon-only states (Nfa::SkipEpsilonChains).
//   Minimize     partition refinement that re-signs, each round, only the
//                states with an edge into a state that changed class (so a
//                chain costs its length, not length x depth as in Moore's
//                rounds); signatures are hashed into an open-addressing table;
//                then breadth-first renumbering for canonical state ids.
//   Product      product construction for `a - b` and `a & b` over two call-free DFAs;
//                a state pairs a state of each (or a's alone once b is stuck).
//                ProductWithRepeat takes b as `unit{min,max}` and counts units
//                instead of building the repetition (length bounds on a pattern).
//   Restrict, MarkReachable, CanReachFinal  trimming helpers; a call edge
//                counts only when `allowed_call` accepts its symbol, which is
//                how calls of unproductive rules are ignored without copying.
//
// Compile time is dominated by allocation when every state owns a vector, so
// both automata are flat (CSR) arrays: each algorithm emits states in id order
// and appends their edges; Determinize's buffers are reused from rule to rule.
#ifndef XGRAM_RULE_DFA_H_
#define XGRAM_RULE_DFA_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "automaton.h"
#include "compile_control.h"
#include "errors.h"

namespace xgram {
namespace rule_dfa {

template <typename T>
struct ConstRange {
  const T* first;
  const T* last;
  const T* begin() const { return first; }
  const T* end() const { return last; }
  bool empty() const { return first == last; }
};

struct NfaEdge {
  enum Kind : uint8_t { kEpsilon, kByte, kCall } kind;
  uint8_t lo = 0;
  uint8_t hi = 0;
  int32_t from = 0;
  int32_t target = 0;
  int32_t call = -1;  // index into the call-symbol table
};

// An NFA as edges grouped by source state (CSR), built from the builder's edge
// list with one counting sort, so no state owns a vector.
class Nfa {
 public:
  // `keep` (the accept state) is never skipped by SkipEpsilonChains.
  void Assign(const std::vector<NfaEdge>& edges, int32_t num_states, int32_t keep) {
    begin_.assign(num_states + 1, 0);
    for (const NfaEdge& e : edges) ++begin_[e.from + 1];
    for (int32_t s = 0; s < num_states; ++s) begin_[s + 1] += begin_[s];
    edges_.resize(edges.size());
    fill_.assign(begin_.begin(), begin_.end() - 1);
    for (const NfaEdge& e : edges) edges_[fill_[e.from]++] = e;
    reads_.assign(num_states, 0);
    for (const NfaEdge& e : edges) {
      if (e.kind != NfaEdge::kEpsilon) reads_[e.from] = 1;
    }
    SkipEpsilonChains(keep);
  }
  int32_t size() const { return static_cast<int32_t>(begin_.size()) - 1; }
  // Whether the state has a byte or call edge. States with only epsilon edges
  // add nothing to a subset once its closure is taken, so Determinize leaves
  // them out of its keys: subsets that differ only in such states (the ends of
  // the many branches of a key trie) become one DFA state before minimisation.
  bool Reads(int32_t s) const { return reads_[s] != 0; }
  ConstRange<NfaEdge> operator[](int32_t s) const {
    return {edges_.data() + begin_[s], edges_.data() + begin_[s + 1]};
  }

 private:
  // Thompson construction leaves chains of states whose only edge is one
  // epsilon (the ends of nested groups); entering such a state is entering its
  // target, so every edge is pointed past the chain. Closures then stop walking
  // up through a deep trie's group ends on every step.
  void SkipEpsilonChains(int32_t keep) {
    int32_t n = size();
    constexpr int32_t kUnknown = -1, kOnChain = -2;
    forward_.assign(n, kUnknown);
    for (int32_t s = 0; s < n; ++s) {
      if (forward_[s] != kUnknown) continue;
      chain_.clear();
      int32_t t = s;
      while (true) {
        if (forward_[t] >= 0) {
          t = forward_[t];
          break;
        }
        if (forward_[t] == kOnChain) break;  // an epsilon cycle: stop inside it
        if (t == keep || begin_[t + 1] - begin_[t] != 1 || edges_[begin_[t]].kind != NfaEdge::kEpsilon) {
          forward_[t] = t;
          break;
        }
        forward_[t] = kOnChain;
        chain_.push_back(t);
        t = edges_[begin_[t]].target;
      }
      for (int32_t c : chain_) forward_[c] = t;
    }
    for (NfaEdge& e : edges_) e.target = forward_[e.target];
  }

  std::vector<int32_t> begin_;
  std::vector<int32_t> fill_;
  std::vector<NfaEdge> edges_;
  std::vector<uint8_t> reads_;
  std::vector<int32_t> forward_;
  std::vector<int32_t> chain_;
};

// Deterministic automaton of one rule before it joins the global numbering.
// Edges are stored flat (CSR): every pass below emits the states in order, so a
// state's edges are appended contiguously and no per-state vector is allocated.
struct RuleDfa {
  std::vector<ByteEdge> byte_edges;                        // targets are local ids
  std::vector<std::pair<int32_t, int32_t>> call_edges;     // (call symbol, target)
  std::vector<int32_t> byte_begin{0};
  std::vector<int32_t> call_begin{0};
  std::vector<uint8_t> final;
  int32_t start = 0;
  int32_t size() const { return static_cast<int32_t>(final.size()); }
  ConstRange<ByteEdge> bytes(int32_t s) const {
    return {byte_edges.data() + byte_begin[s], byte_edges.data() + byte_begin[s + 1]};
  }
  ConstRange<std::pair<int32_t, int32_t>> calls(int32_t s) const {
    return {call_edges.data() + call_begin[s], call_edges.data() + call_begin[s + 1]};
  }
  // Appends a byte edge to the state being emitted, merging it into the previous
  // range when that one ends just before it with the same target.
  void AddByteEdge(uint8_t lo, uint8_t hi, int32_t target) {
    if (static_cast<int32_t>(byte_edges.size()) > byte_begin.back() && byte_edges.back().target == target &&
        byte_edges.back().hi + 1 == lo) {
      byte_edges.back().hi = hi;
    } else {
      byte_edges.push_back({lo, hi, target});
    }
  }
  // Ends the state being emitted (states are emitted in id order).
  void CloseState() {
    byte_begin.push_back(static_cast<int32_t>(byte_edges.size()));
    call_begin.push_back(static_cast<int32_t>(call_edges.size()));
  }
};

class Budget {
 public:
  explicit Budget(const CompileLimits& limits)
      : limits_(limits), start_(std::chrono::steady_clock::now()) {}

  void AddStates(int64_t n) {
    states_ += n;
    if (states_ > limits_.max_states) {
      throw CompileBudgetError("grammar compilation exceeded the state budget (" +
                               std::to_string(limits_.max_states) +
                               " automaton states); simplify the grammar or raise max_states");
    }
    if ((++ticks_ & 1023) == 0) CheckTime();
  }
  // NFA states count against a budget of their own (unrolled repetitions can
  // multiply them before determinisation ever runs).
  void AddNfaStates(int64_t n) {
    nfa_states_ += n;
    if (nfa_states_ > limits_.max_states * 4) {
      throw CompileBudgetError("grammar compilation exceeded the state budget (" +
                               std::to_string(limits_.max_states * 4) +
                               " NFA states); nested repetitions multiply states, "
                               "simplify the grammar or raise max_states");
    }
    if ((++ticks_ & 4095) == 0) CheckTime();
  }
  int64_t states() const { return states_; }
  int64_t nfa_states() const { return nfa_states_; }
  // The process-wide limit counts from the start of the automaton build; the
  // compile's own control (compile_control.h) from the start of the compile call.
  void CheckTime() const {
    CheckCompileControl();
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (elapsed > limits_.max_seconds) {
      throw CompileBudgetError("grammar compilation exceeded the time budget (" +
                               std::to_string(limits_.max_seconds) + " s)");
    }
  }

 private:
  const CompileLimits& limits_;
  std::chrono::steady_clock::time_point start_;
  int64_t states_ = 0;
  int64_t nfa_states_ = 0;
  int64_t ticks_ = 0;
};

// Buffers Determinize reuses from rule to rule.
struct DeterminizeScratch {
  Nfa nfa;
  std::vector<uint8_t> mark;
  std::vector<int32_t> set;
  std::vector<int32_t> targets;
  std::vector<const NfaEdge*> byte_edges;  // of the current set
  std::vector<int32_t> interval_begin;     // CSR of NFA targets per elementary interval
  std::vector<int32_t> interval_targets;
  std::vector<std::pair<int32_t, int32_t>> call_targets;  // (call symbol, NFA target)
  std::vector<int32_t> set_data;      // the NFA sets of the DFA states, back to back
  std::vector<int32_t> set_begin;
  std::vector<int32_t> table;         // open addressing: set -> DFA state
  std::vector<int32_t> dfa_of_single;  // NFA state -> DFA state of its closure
};

// The DFA of the NFA from `start`; a DFA state is final when its set holds `accept`.
RuleDfa Determinize(const Nfa& nfa, int32_t start, int32_t accept, Budget* budget,
                    DeterminizeScratch* scratch);

// Buffers Minimize reuses from rule to rule.
struct MinimizeScratch {
  std::vector<int32_t> pred_begin, preds;  // reverse edges (CSR)
  std::vector<int32_t> cls, members, position, class_begin, class_end;
  std::vector<int32_t> dirty, dirty_count, touched, signed_states, new_class, changed;
  std::vector<uint8_t> is_dirty;
  std::vector<int32_t> arena;
  std::vector<int32_t> sig_begin, table, group_size;
  std::vector<uint64_t> sig_hashes;
  std::vector<std::pair<int32_t, int32_t>> order;
  std::vector<int32_t> representative, order_id, queue;
  std::vector<int32_t> distance, class_of_distance;
};

// Which strings the product of two DFAs accepts.
enum class ProductKind : uint8_t {
  kDifference,    // `a - b`: what `a` accepts and `b` does not
  kIntersection,  // `a & b`: what both accept
};

// The product automaton of `a` and `b` (plain-byte DFAs, no calls), trimmed to
// the states that can still accept. Only the pairs reachable from the start are
// built, each counted against `budget`, so a blow-up stops with a budget error.
RuleDfa Product(const RuleDfa& a, const RuleDfa& b, ProductKind kind, Budget* budget);

// Whether `unit` can be counted by ProductWithRepeat: it does not accept the
// empty string and no accepted string is a prefix of another (a final state has
// no edges), so the end of each unit is known at its last byte. One character
// spelled in UTF-8 or as a JSON escape is such a unit.
bool IsPrefixFreeUnit(const RuleDfa& unit);

// The product of `a` with `unit{min,max}` (max < 0: no upper bound) without
// building the repetition's DFA: b's state is (state in the unit, units read so
// far), explored only where `a` goes. Spelled out, `any{0,32767}` would be 32767
// copies of a character's states before the product even starts; counted, only
// the (state of a, state in the unit, count) triples a string can reach are
// built, each against `budget`. `unit` must be prefix-free.
RuleDfa ProductWithRepeat(const RuleDfa& a, const RuleDfa& unit, int32_t min, int32_t max, ProductKind kind,
                          Budget* budget);

// Partition refinement to the coarsest partition with equal signatures (see
// rule_dfa.cc), then breadth-first renumbering from the start.
RuleDfa Minimize(const RuleDfa& dfa, const Budget& budget, MinimizeScratch* scratch);

// The states `keep` marks, renumbered in order, without the edges that leave
// them or that `allowed_call` rejects.
template <typename AllowedCall>
RuleDfa Restrict(const RuleDfa& dfa, const std::vector<uint8_t>& keep, AllowedCall allowed_call) {
  std::vector<int32_t> new_id(dfa.size(), -1);
  RuleDfa out;
  out.final.reserve(dfa.size());
  out.byte_begin.reserve(dfa.size() + 1);
  out.call_begin.reserve(dfa.size() + 1);
  out.byte_edges.reserve(dfa.byte_edges.size());
  out.call_edges.reserve(dfa.call_edges.size());
  for (int32_t s = 0; s < dfa.size(); ++s) {
    if (keep[s]) {
      new_id[s] = out.size();
      out.final.push_back(dfa.final[s]);
    }
  }
  for (int32_t s = 0; s < dfa.size(); ++s) {
    if (!keep[s]) continue;
    for (const ByteEdge& e : dfa.bytes(s)) {
      if (new_id[e.target] >= 0) out.byte_edges.push_back({e.lo, e.hi, new_id[e.target]});
    }
    for (auto [call, t] : dfa.calls(s)) {
      if (new_id[t] >= 0 && allowed_call(call)) out.call_edges.push_back({call, new_id[t]});
    }
    out.CloseState();
  }
  out.start = new_id[dfa.start];
  return out;
}

// Marks, into `seen`, the states reachable from `from` over byte edges and the
// call edges `allowed_call` accepts; stops early once `stop_at_final` finds a
// final state and returns whether one was found.
template <typename AllowedCall>
bool MarkReachable(const RuleDfa& dfa, int32_t from, AllowedCall allowed_call, bool stop_at_final,
                   std::vector<uint8_t>* seen, std::vector<int32_t>* work) {
  seen->assign(dfa.size(), 0);
  work->assign(1, from);
  (*seen)[from] = 1;
  bool found_final = false;
  while (!work->empty()) {
    int32_t s = work->back();
    work->pop_back();
    if (dfa.final[s]) {
      found_final = true;
      if (stop_at_final) return true;
    }
    auto visit = [&](int32_t t) {
      if (!(*seen)[t]) (*seen)[t] = 1, work->push_back(t);
    };
    for (const ByteEdge& e : dfa.bytes(s)) visit(e.target);
    for (auto [call, t] : dfa.calls(s)) {
      if (allowed_call(call)) visit(t);
    }
  }
  return found_final;
}

// Marks the states from which some final state is reachable over byte edges and
// the call edges `allowed_call` accepts.
template <typename AllowedCall>
std::vector<uint8_t> CanReachFinal(const RuleDfa& dfa, AllowedCall allowed_call) {
  // Reverse edges in CSR form.
  int32_t n = dfa.size();
  std::vector<int32_t> begin(n + 2, 0);
  for (int32_t s = 0; s < n; ++s) {
    for (const ByteEdge& e : dfa.bytes(s)) ++begin[e.target + 2];
    for (auto [call, t] : dfa.calls(s)) {
      if (allowed_call(call)) ++begin[t + 2];
    }
  }
  for (int32_t s = 0; s < n; ++s) begin[s + 2] += begin[s + 1];
  std::vector<int32_t> sources(begin[n + 1]);
  for (int32_t s = 0; s < n; ++s) {
    for (const ByteEdge& e : dfa.bytes(s)) sources[begin[e.target + 1]++] = s;
    for (auto [call, t] : dfa.calls(s)) {
      if (allowed_call(call)) sources[begin[t + 1]++] = s;
    }
  }
  std::vector<uint8_t> seen(n, 0);
  std::vector<int32_t> work;
  for (int32_t s = 0; s < n; ++s) {
    if (dfa.final[s]) seen[s] = 1, work.push_back(s);
  }
  while (!work.empty()) {
    int32_t s = work.back();
    work.pop_back();
    for (int32_t i = begin[s]; i < begin[s + 1]; ++i) {
      int32_t p = sources[i];
      if (!seen[p]) seen[p] = 1, work.push_back(p);
    }
  }
  return seen;
}

}  // namespace rule_dfa
}  // namespace xgram

#endif  // XGRAM_RULE_DFA_H_
