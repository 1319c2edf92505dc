// Grammar IR -> Automaton (see automaton.h).
//
// Per rule:
//   1. Thompson construction of an NFA whose edges are epsilon, a byte range or a
//      call symbol (rule, min, max). Character classes become UTF-8 byte-range
//      sequences (utf8_ranges.h). Small repetitions are unrolled; large ones become
//      one *counted* call of a helper rule holding the repeated expression, so
//      `[a-z]{0,100000}` costs three states.
//   2. Subset construction: byte edges are split into disjoint ranges and call
//      symbols are treated as letters, giving a DFA over bytes and calls.
// Over the whole grammar:
//   3. Productivity: a rule is productive when some path from its start to a final
//      state uses only bytes and calls of productive rules. Calls of unproductive
//      rules are removed, then states that are unreachable or cannot reach a final
//      state are trimmed. So every surviving thread of the matcher can still
//      complete, which makes "is a valid prefix" exact.
//   4. Moore minimisation and breadth-first renumbering, which gives every state a
//      canonical id within its rule.
// Lookaheads are compiled like rule bodies with every call inlined (they must be
// regular) into one shared plain-byte DFA.
#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <unordered_map>

#include "automaton.h"
#include "errors.h"
#include "flat_set.h"
#include "grammar_printer.h"
#include "utf8_ranges.h"

namespace xgram {
namespace {

struct CallSymbol {
  RuleId rule;
  int32_t min;
  int32_t max;
  bool operator<(const CallSymbol& o) const {
    return std::tie(rule, min, max) < std::tie(o.rule, o.min, o.max);
  }
  bool operator==(const CallSymbol& o) const {
    return rule == o.rule && min == o.min && max == o.max;
  }
};

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
  void Assign(const std::vector<NfaEdge>& edges, int32_t num_states) {
    begin_.assign(num_states + 1, 0);
    for (const NfaEdge& e : edges) ++begin_[e.from + 1];
    for (int32_t s = 0; s < num_states; ++s) begin_[s + 1] += begin_[s];
    edges_.resize(edges.size());
    fill_.assign(begin_.begin(), begin_.end() - 1);
    for (const NfaEdge& e : edges) edges_[fill_[e.from]++] = e;
  }
  int32_t size() const { return static_cast<int32_t>(begin_.size()) - 1; }
  ConstRange<NfaEdge> operator[](int32_t s) const {
    return {edges_.data() + begin_[s], edges_.data() + begin_[s + 1]};
  }

 private:
  std::vector<int32_t> begin_;
  std::vector<int32_t> fill_;
  std::vector<NfaEdge> edges_;
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
  void CheckTime() const {
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

// Shared state of the whole build: call symbols and helper rules for counted
// repetitions, which are appended to the rule list while rules are built.
struct BuildContext {
  const Grammar& grammar;
  const CompileLimits& limits;
  Budget budget;
  std::vector<CallSymbol> call_symbols;
  std::map<CallSymbol, int32_t> call_symbol_ids;
  std::vector<AutomatonRule> rules;
  std::vector<ExprId> rule_bodies;
  std::unordered_map<ExprId, RuleId> helper_for_expr;
  std::unordered_map<ExprId, int64_t> tree_size;
  // NFA edges, reused from rule to rule so their storage is allocated once.
  std::vector<NfaEdge> nfa_edges;
  // UTF-8 sequences of each character-class expression (interned, so shared).
  std::unordered_map<ExprId, std::vector<Utf8Sequence>> utf8_sequences;

  const std::vector<Utf8Sequence>& SequencesOf(ExprId id) {
    auto it = utf8_sequences.find(id);
    if (it == utf8_sequences.end()) {
      it = utf8_sequences.emplace(id, Utf8Sequences(grammar.exprs[id].ranges)).first;
    }
    return it->second;
  }

  BuildContext(const Grammar& g, const CompileLimits& l) : grammar(g), limits(l), budget(l) {
    for (const Rule& r : g.rules) {
      AutomatonRule ar;
      ar.name = r.name;
      rules.push_back(ar);
      rule_bodies.push_back(r.body);
    }
  }

  int32_t InternCall(CallSymbol sym) {
    auto it = call_symbol_ids.find(sym);
    if (it != call_symbol_ids.end()) return it->second;
    int32_t id = static_cast<int32_t>(call_symbols.size());
    call_symbols.push_back(sym);
    call_symbol_ids.emplace(sym, id);
    return id;
  }

  RuleId HelperRule(ExprId expr, const std::string& parent_name) {
    const Expr& e = grammar.exprs[expr];
    if (e.kind == ExprKind::kRuleRef) return e.rule;
    auto it = helper_for_expr.find(expr);
    if (it != helper_for_expr.end()) return it->second;
    AutomatonRule ar;
    ar.name = parent_name + "#repeat" + std::to_string(helper_for_expr.size());
    ar.is_helper = true;
    rules.push_back(ar);
    rule_bodies.push_back(expr);
    RuleId id = static_cast<RuleId>(rules.size() - 1);
    helper_for_expr[expr] = id;
    return id;
  }

  // Size of the expression once its own small repetitions are unrolled.
  int64_t UnrolledSize(ExprId id) {
    auto it = tree_size.find(id);
    if (it != tree_size.end()) return it->second;
    const Expr& e = grammar.exprs[id];
    int64_t size = 1;
    if (e.kind == ExprKind::kRepeat) {
      int64_t child = UnrolledSize(e.children[0]);
      size += ShouldUnroll(e, child) ? RepeatCount(e) * child : child;
    } else {
      for (ExprId c : e.children) size += UnrolledSize(c);
    }
    size = std::min<int64_t>(size, int64_t{1} << 40);
    tree_size[id] = size;
    return size;
  }
  static int64_t RepeatCount(const Expr& e) { return e.max == kUnbounded ? std::max(e.min, 1) : e.max; }
  bool ShouldUnroll(const Expr& e, int64_t child_size) const {
    return RepeatCount(e) <= limits.max_unrolled_repeat && RepeatCount(e) * child_size <= 4096;
  }
};

class NfaBuilder {
 public:
  // `inline_calls`: expand rule references in place (for lookaheads, which must be
  // regular); `owner` names the rule for helper names and errors.
  NfaBuilder(BuildContext* ctx, RuleId owner, bool inline_calls)
      : ctx_(ctx), owner_(owner), inline_calls_(inline_calls), edges_(ctx->nfa_edges) {
    edges_.clear();
  }

  int32_t NewState() {
    ++size_;
    ctx_->budget.AddNfaStates(1);
    if (inline_calls_ && size_ > 200000) {
      throw CompileBudgetError("the lookahead of rule '" + ctx_->rules[owner_].name +
                               "' is too large to compile (over 200000 automaton states)");
    }
    return static_cast<int32_t>(size_ - 1);
  }

  int32_t Build(ExprId id, int32_t start) {
    const Expr& e = ctx_->grammar.exprs[id];
    switch (e.kind) {
      case ExprKind::kEmpty:
        return start;
      case ExprKind::kBytes: {
        int32_t cur = start;
        for (char c : e.bytes) {
          int32_t next = NewState();
          AddByte(cur, static_cast<uint8_t>(c), static_cast<uint8_t>(c), next);
          cur = next;
        }
        return cur;
      }
      case ExprKind::kCharClass: {
        int32_t end = NewState();
        for (const Utf8Sequence& seq : ctx_->SequencesOf(id)) {
          int32_t cur = start;
          for (size_t i = 0; i < seq.size(); ++i) {
            int32_t next = (i + 1 == seq.size()) ? end : NewState();
            AddByte(cur, seq[i].lo, seq[i].hi, next);
            cur = next;
          }
        }
        return end;
      }
      case ExprKind::kSequence: {
        int32_t cur = start;
        for (ExprId c : e.children) cur = Build(c, cur);
        return cur;
      }
      case ExprKind::kChoice: {
        int32_t end = NewState();
        for (ExprId c : e.children) {
          int32_t branch = NewState();
          AddEpsilon(start, branch);
          AddEpsilon(Build(c, branch), end);
        }
        return end;
      }
      case ExprKind::kRuleRef:
        return BuildRuleRef(e.rule, start);
      case ExprKind::kRepeat:
        return BuildRepeat(id, start);
    }
    return start;
  }

  // The automaton built so far, grouped by state into `out`.
  void Finish(Nfa* out) const { out->Assign(edges_, static_cast<int32_t>(size_)); }

 private:
  void AddEpsilon(int32_t from, int32_t to) { edges_.push_back({NfaEdge::kEpsilon, 0, 0, from, to, -1}); }
  void AddByte(int32_t from, uint8_t lo, uint8_t hi, int32_t to) {
    edges_.push_back({NfaEdge::kByte, lo, hi, from, to, -1});
  }
  void AddCall(int32_t from, CallSymbol sym, int32_t to) {
    edges_.push_back({NfaEdge::kCall, 0, 0, from, to, ctx_->InternCall(sym)});
  }

  int32_t BuildRuleRef(RuleId rule, int32_t start) {
    if (!inline_calls_) {
      int32_t end = NewState();
      AddCall(start, {rule, 1, 1}, end);
      return end;
    }
    if (std::find(inline_stack_.begin(), inline_stack_.end(), rule) != inline_stack_.end()) {
      throw GrammarError("the lookahead of rule '" + ctx_->rules[owner_].name +
                         "' refers to the recursive rule '" + ctx_->grammar.rules[rule].name +
                         "'; lookahead assertions must be regular (no recursion)");
    }
    if (ctx_->grammar.rules[rule].lookahead != kNone) {
      throw GrammarError("the lookahead of rule '" + ctx_->rules[owner_].name +
                         "' refers to rule '" + ctx_->grammar.rules[rule].name +
                         "', which has a lookahead of its own; a lookahead cannot nest another");
    }
    inline_stack_.push_back(rule);
    int32_t end = Build(ctx_->grammar.rules[rule].body, start);
    inline_stack_.pop_back();
    return end;
  }

  int32_t BuildRepeat(ExprId id, int32_t start) {
    const Expr& e = ctx_->grammar.exprs[id];
    ExprId child = e.children[0];
    int32_t min = e.min, max = e.max;
    bool unroll = inline_calls_ || ctx_->ShouldUnroll(e, ctx_->UnrolledSize(child));
    if (!unroll) {
      RuleId helper = ctx_->HelperRule(child, ctx_->rules[owner_].name);
      int32_t end = NewState();
      if (min == 0) AddEpsilon(start, end);
      AddCall(start, {helper, std::max(min, 1), max}, end);
      return end;
    }
    int32_t cur = start;
    for (int32_t i = 0; i < min; ++i) cur = Build(child, cur);
    if (max == kUnbounded) {
      int32_t loop = NewState();
      AddEpsilon(cur, loop);
      int32_t body = NewState();
      AddEpsilon(loop, body);
      AddEpsilon(Build(child, body), loop);
      return loop;
    }
    int32_t end = NewState();
    AddEpsilon(cur, end);
    for (int32_t i = min; i < max; ++i) {
      cur = Build(child, cur);
      AddEpsilon(cur, end);
    }
    return end;
  }

  BuildContext* ctx_;
  RuleId owner_;
  bool inline_calls_;
  std::vector<NfaEdge>& edges_;
  size_t size_ = 0;
  std::vector<RuleId> inline_stack_;
};

// Buffers Determinize reuses from rule to rule.
struct DeterminizeScratch {
  Nfa nfa;
  std::vector<uint8_t> mark;
  std::vector<int32_t> set;
  std::vector<int32_t> targets;
  std::vector<int> points;
  std::vector<const NfaEdge*> byte_edges;  // of the current set
  std::vector<int32_t> interval_begin;     // CSR of NFA targets per elementary interval
  std::vector<int32_t> interval_targets;
  std::vector<std::pair<int32_t, int32_t>> call_targets;  // (call symbol, NFA target)
};

RuleDfa Determinize(const Nfa& nfa, int32_t start, int32_t accept, Budget* budget,
                    DeterminizeScratch* scratch) {
  RuleDfa dfa;
  // The NFA state sets of the DFA states, stored back to back, and an
  // open-addressing table from a set to its DFA state.
  std::vector<int32_t> set_data;
  std::vector<int32_t> set_begin{0};
  std::vector<int32_t> table(64, -1);
  size_t table_mask = table.size() - 1;
  auto set_hash = [](const int32_t* first, const int32_t* last) {
    uint64_t h = 1469598103934665603ull;
    for (const int32_t* p = first; p != last; ++p) h = (h ^ static_cast<uint32_t>(*p)) * 1099511628211ull;
    return static_cast<size_t>(h ^ (h >> 32));
  };
  auto set_of = [&](int32_t d) {
    return ConstRange<int32_t>{set_data.data() + set_begin[d], set_data.data() + set_begin[d + 1]};
  };
  std::vector<uint8_t>& mark = scratch->mark;
  if (mark.size() < static_cast<size_t>(nfa.size())) mark.resize(nfa.size(), 0);

  // Epsilon closure of `seeds`, sorted, into scratch->set.
  auto closure = [&](const std::vector<int32_t>& seeds) {
    std::vector<int32_t>& out = scratch->set;
    out.clear();
    for (int32_t s : seeds) {
      if (!mark[s]) mark[s] = 1, out.push_back(s);
    }
    for (size_t i = 0; i < out.size(); ++i) {
      for (const NfaEdge& e : nfa[out[i]]) {
        if (e.kind == NfaEdge::kEpsilon && !mark[e.target]) {
          mark[e.target] = 1;
          out.push_back(e.target);
        }
      }
    }
    for (int32_t s : out) mark[s] = 0;
    std::sort(out.begin(), out.end());
  };
  // The DFA state of the set in scratch->set, created on first sight.
  auto intern = [&]() {
    const std::vector<int32_t>& set = scratch->set;
    size_t slot = set_hash(set.data(), set.data() + set.size()) & table_mask;
    for (; table[slot] >= 0; slot = (slot + 1) & table_mask) {
      ConstRange<int32_t> other = set_of(table[slot]);
      if (static_cast<size_t>(other.last - other.first) == set.size() &&
          std::equal(set.begin(), set.end(), other.first)) {
        return table[slot];
      }
    }
    int32_t id = dfa.size();
    budget->AddStates(1);
    dfa.final.push_back(std::binary_search(set.begin(), set.end(), accept));
    set_data.insert(set_data.end(), set.begin(), set.end());
    set_begin.push_back(static_cast<int32_t>(set_data.size()));
    table[slot] = id;
    if (2 * static_cast<size_t>(id + 1) > table.size()) {  // keep the load under one half
      table.assign(table.size() * 2, -1);
      table_mask = table.size() - 1;
      for (int32_t d = 0; d <= id; ++d) {
        ConstRange<int32_t> members = set_of(d);
        size_t i = set_hash(members.first, members.last) & table_mask;
        while (table[i] >= 0) i = (i + 1) & table_mask;
        table[i] = d;
      }
    }
    return id;
  };

  scratch->targets.assign(1, start);
  closure(scratch->targets);
  dfa.start = intern();
  std::vector<int>& points = scratch->points;
  std::vector<std::pair<int32_t, int32_t>>& call_targets = scratch->call_targets;
  std::vector<int32_t>& targets = scratch->targets;
  for (int32_t d = 0; d < dfa.size(); ++d) {
    // Byte edges: split [0,255] at every range boundary into elementary
    // intervals, then give each interval the targets of the edges covering it.
    points.clear();
    call_targets.clear();
    std::vector<const NfaEdge*>& byte_edges = scratch->byte_edges;
    byte_edges.clear();
    for (int32_t s : set_of(d)) {
      for (const NfaEdge& e : nfa[s]) {
        if (e.kind == NfaEdge::kByte) {
          points.push_back(e.lo);
          points.push_back(e.hi + 1);
          byte_edges.push_back(&e);
        } else if (e.kind == NfaEdge::kCall) {
          call_targets.push_back({e.call, e.target});
        }
      }
    }
    std::sort(points.begin(), points.end());
    points.erase(std::unique(points.begin(), points.end()), points.end());
    size_t num_intervals = points.empty() ? 0 : points.size() - 1;
    std::vector<int32_t>& interval_begin = scratch->interval_begin;
    std::vector<int32_t>& interval_targets = scratch->interval_targets;
    interval_begin.assign(num_intervals + 2, 0);
    auto interval_of = [&](int point) {
      return static_cast<size_t>(std::lower_bound(points.begin(), points.end(), point) - points.begin());
    };
    for (const NfaEdge* e : byte_edges) {
      for (size_t i = interval_of(e->lo), end = interval_of(e->hi + 1); i < end; ++i) ++interval_begin[i + 2];
    }
    for (size_t i = 0; i < num_intervals; ++i) interval_begin[i + 2] += interval_begin[i + 1];
    interval_targets.resize(interval_begin[num_intervals + 1]);
    for (const NfaEdge* e : byte_edges) {
      for (size_t i = interval_of(e->lo), end = interval_of(e->hi + 1); i < end; ++i) {
        interval_targets[interval_begin[i + 1]++] = e->target;
      }
    }
    for (size_t p = 0; p < num_intervals; ++p) {
      if (interval_begin[p] == interval_begin[p + 1]) continue;
      targets.assign(interval_targets.begin() + interval_begin[p], interval_targets.begin() + interval_begin[p + 1]);
      closure(targets);
      int32_t t = intern();
      dfa.AddByteEdge(static_cast<uint8_t>(points[p]), static_cast<uint8_t>(points[p + 1] - 1), t);
    }
    std::sort(call_targets.begin(), call_targets.end());
    for (size_t i = 0; i < call_targets.size();) {
      int32_t call = call_targets[i].first;
      targets.clear();
      for (; i < call_targets.size() && call_targets[i].first == call; ++i) {
        targets.push_back(call_targets[i].second);
      }
      closure(targets);
      int32_t t = intern();
      dfa.call_edges.push_back({call, t});
    }
    dfa.CloseState();
  }
  return dfa;
}

// The states `keep` marks, renumbered in order, without the edges that leave
// them or that `allowed_call` rejects.
template <typename AllowedCall>
RuleDfa Restrict(const RuleDfa& dfa, const std::vector<uint8_t>& keep, AllowedCall allowed_call) {
  std::vector<int32_t> new_id(dfa.size(), -1);
  RuleDfa out;
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

// Moore partition refinement, then breadth-first renumbering from the start.
RuleDfa Minimize(const RuleDfa& dfa, const Budget& budget) {
  int32_t n = dfa.size();
  std::vector<int32_t> cls(n);
  for (int32_t s = 0; s < n; ++s) cls[s] = dfa.final[s];
  int32_t num_classes = -1;
  // Moore refinement: a state's signature is its class and its transitions'
  // target classes; rounds repeat until the number of classes stops growing.
  // Signatures live in one flat arena and equal ones are found with an
  // open-addressing table of state ids, so a round allocates nothing and costs
  // time linear in the edges (a rule such as `[ \t]{0,64}` needs 65 rounds).
  std::vector<int64_t> arena;
  std::vector<int32_t> begin(n + 1);
  std::vector<int32_t> next(n);
  size_t table_size = 16;
  while (table_size < 2 * static_cast<size_t>(n)) table_size *= 2;
  std::vector<int32_t> table(table_size);
  auto sig_hash = [&](int32_t a) {
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (int32_t i = begin[a]; i < begin[a + 1]; ++i) {
      h = (h ^ static_cast<uint64_t>(arena[i])) * 0x100000001b3ull;
      h ^= h >> 29;
    }
    return h;
  };
  auto sig_equal = [&](int32_t a, int32_t b) {
    return std::equal(arena.begin() + begin[a], arena.begin() + begin[a + 1], arena.begin() + begin[b],
                      arena.begin() + begin[b + 1]);
  };
  while (true) {
    arena.clear();
    for (int32_t s = 0; s < n; ++s) {
      begin[s] = static_cast<int32_t>(arena.size());
      arena.push_back(cls[s]);
      int64_t last_cls = -1, last_hi = -2;
      for (const ByteEdge& e : dfa.bytes(s)) {
        int64_t c = cls[e.target];
        if (c == last_cls && e.lo == last_hi + 1) {
          arena.back() = e.hi;  // extend the previous range
        } else {
          arena.push_back(-1 - c);
          arena.push_back(e.lo);
          arena.push_back(e.hi);
        }
        last_cls = c;
        last_hi = e.hi;
      }
      arena.push_back(INT64_MIN);
      for (auto [call, t] : dfa.calls(s)) {
        arena.push_back(call);
        arena.push_back(cls[t]);
      }
    }
    begin[n] = static_cast<int32_t>(arena.size());
    std::fill(table.begin(), table.end(), -1);
    int32_t count = 0;
    for (int32_t s = 0; s < n; ++s) {
      size_t slot = sig_hash(s) & (table_size - 1);
      while (table[slot] >= 0 && !sig_equal(table[slot], s)) slot = (slot + 1) & (table_size - 1);
      if (table[slot] < 0) {
        table[slot] = s;
        next[s] = count++;
      } else {
        next[s] = next[table[slot]];
      }
    }
    budget.CheckTime();
    cls.swap(next);
    if (count == num_classes) break;
    num_classes = count;
  }
  // Renumber classes in BFS order from the start class.
  std::vector<int32_t> representative(num_classes, -1);
  for (int32_t s = 0; s < n; ++s) {
    if (representative[cls[s]] < 0) representative[cls[s]] = s;
  }
  std::vector<int32_t> order_id(num_classes, -1);
  std::vector<int32_t> queue{cls[dfa.start]};
  order_id[cls[dfa.start]] = 0;
  for (size_t i = 0; i < queue.size(); ++i) {
    int32_t rep = representative[queue[i]];
    auto visit = [&](int32_t target) {
      int32_t c = cls[target];
      if (order_id[c] < 0) {
        order_id[c] = static_cast<int32_t>(queue.size());
        queue.push_back(c);
      }
    };
    for (const ByteEdge& e : dfa.bytes(rep)) visit(e.target);
    for (auto [call, t] : dfa.calls(rep)) visit(t);
  }
  RuleDfa out;
  out.start = 0;
  for (int32_t c : queue) {
    int32_t rep = representative[c];
    out.final.push_back(dfa.final[rep]);
    for (const ByteEdge& e : dfa.bytes(rep)) out.AddByteEdge(e.lo, e.hi, order_id[cls[e.target]]);
    for (auto [call, t] : dfa.calls(rep)) out.call_edges.push_back({call, order_id[cls[t]]});
    out.CloseState();
  }
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

}  // namespace

AutomatonPtr BuildAutomaton(const Grammar& grammar, const CompileLimits& limits) {
  BuildContext ctx(grammar, limits);

  // 1-2. Per-rule DFAs (helper rules for counted repetitions are appended on the way).
  std::vector<RuleDfa> dfas;
  DeterminizeScratch scratch;
  for (size_t r = 0; r < ctx.rules.size(); ++r) {
    NfaBuilder nfa(&ctx, static_cast<RuleId>(r), /*inline_calls=*/false);
    int32_t start = nfa.NewState();
    int32_t accept = nfa.Build(ctx.rule_bodies[r], start);
    nfa.Finish(&scratch.nfa);
    dfas.push_back(Determinize(scratch.nfa, start, accept, &ctx.budget, &scratch));
  }
  size_t num_rules = ctx.rules.size();

  // 3. Productivity fixpoint, then pruning.
  std::vector<uint8_t> productive(num_rules, 0);
  auto productive_call = [&](int32_t call) { return productive[ctx.call_symbols[call].rule] != 0; };
  std::vector<uint8_t> seen;
  std::vector<int32_t> work;
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < num_rules; ++r) {
      if (productive[r]) continue;
      if (MarkReachable(dfas[r], dfas[r].start, productive_call, /*stop_at_final=*/true, &seen, &work)) {
        productive[r] = 1, changed = true;
      }
    }
  }
  if (!productive[grammar.root]) {
    throw GrammarError("the grammar accepts no string: rule '" + grammar.rules[grammar.root].name +
                       "' can never complete (every alternative needs a rule that never ends)");
  }
  for (size_t r = 0; r < num_rules; ++r) {
    if (!productive[r]) {
      RuleDfa empty;
      empty.final = {0};
      empty.CloseState();
      dfas[r] = std::move(empty);
      continue;
    }
    MarkReachable(dfas[r], dfas[r].start, productive_call, /*stop_at_final=*/false, &seen, &work);
    std::vector<uint8_t> keep = CanReachFinal(dfas[r], productive_call);
    for (size_t s = 0; s < keep.size(); ++s) keep[s] = keep[s] && seen[s];
    // 4. Minimise.
    dfas[r] = Minimize(Restrict(dfas[r], keep, productive_call), ctx.budget);
  }

  // Nullable rules: a path from start to final through calls of nullable rules only.
  std::vector<uint8_t> nullable(num_rules, 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < num_rules; ++r) {
      if (nullable[r]) continue;
      const RuleDfa& d = dfas[r];
      seen.assign(d.size(), 0);
      work.assign(1, d.start);
      seen[d.start] = 1;
      while (!work.empty() && !nullable[r]) {
        int32_t s = work.back();
        work.pop_back();
        if (d.final[s]) nullable[r] = 1, changed = true;
        for (auto [call, t] : d.calls(s)) {
          if (nullable[ctx.call_symbols[call].rule] && !seen[t]) seen[t] = 1, work.push_back(t);
        }
      }
    }
  }

  // Assemble the global numbering.
  auto automaton = std::make_shared<Automaton>();
  Automaton& a = *automaton;
  a.root = grammar.root;
  a.rules = ctx.rules;
  std::vector<int32_t> offset(num_rules + 1, 0);
  for (size_t r = 0; r < num_rules; ++r) offset[r + 1] = offset[r] + dfas[r].size();
  a.byte_edge_begin.push_back(0);
  a.call_edge_begin.push_back(0);
  for (size_t r = 0; r < num_rules; ++r) {
    a.rules[r].start = offset[r] + dfas[r].start;
    a.rules[r].nullable = nullable[r];
    for (int32_t s = 0; s < dfas[r].size(); ++s) {
      for (const ByteEdge& e : dfas[r].bytes(s)) {
        a.byte_edges.push_back({e.lo, e.hi, offset[r] + e.target});
      }
      size_t calls_begin = a.call_edges.size();
      for (auto [call, t] : dfas[r].calls(s)) {
        const CallSymbol& sym = ctx.call_symbols[call];
        // Extra iterations of a nullable rule can be empty, so only one is needed.
        int32_t min = (sym.min > 1 && nullable[sym.rule]) ? 1 : sym.min;
        a.call_edges.push_back({sym.rule, offset[r] + t, min, sym.max});
      }
      std::sort(a.call_edges.begin() + calls_begin, a.call_edges.end(), [](const CallEdge& x, const CallEdge& y) {
        return std::tie(x.rule, x.min_calls, x.max_calls) < std::tie(y.rule, y.min_calls, y.max_calls);
      });
      a.byte_edge_begin.push_back(static_cast<int32_t>(a.byte_edges.size()));
      a.call_edge_begin.push_back(static_cast<int32_t>(a.call_edges.size()));
      a.is_final.push_back(dfas[r].final[s]);
      a.state_rule.push_back(static_cast<RuleId>(r));
    }
  }

  // Call sites, for matchers that must continue a rule in every possible context.
  a.call_edge_source.resize(a.call_edges.size());
  for (StateId s = 0; s < a.num_states(); ++s) {
    for (int32_t e = a.call_edge_begin[s]; e < a.call_edge_begin[s + 1]; ++e) a.call_edge_source[e] = s;
  }
  a.call_site_begin.assign(num_rules + 1, 0);
  for (const CallEdge& e : a.call_edges) ++a.call_site_begin[e.rule + 1];
  for (size_t r = 0; r < num_rules; ++r) a.call_site_begin[r + 1] += a.call_site_begin[r];
  a.call_site_edges.resize(a.call_edges.size());
  {
    std::vector<int32_t> fill(a.call_site_begin.begin(), a.call_site_begin.end() - 1);
    for (size_t e = 0; e < a.call_edges.size(); ++e) {
      a.call_site_edges[fill[a.call_edges[e].rule]++] = static_cast<int32_t>(e);
    }
  }

  // Lookaheads: one plain byte DFA; reaching a final state satisfies the assertion,
  // so final states need no outgoing edges.
  a.lookahead_edge_begin.push_back(0);
  for (size_t r = 0; r < grammar.rules.size(); ++r) {
    if (grammar.rules[r].lookahead == kNone) continue;
    NfaBuilder nfa(&ctx, static_cast<RuleId>(r), /*inline_calls=*/true);
    int32_t start = nfa.NewState();
    int32_t accept = nfa.Build(grammar.rules[r].lookahead, start);
    nfa.Finish(&scratch.nfa);
    RuleDfa d = Determinize(scratch.nfa, start, accept, &ctx.budget, &scratch);
    if (d.final[d.start]) continue;  // an assertion that holds on "" always holds
    auto any_call = [](int32_t) { return true; };
    std::vector<uint8_t> keep = CanReachFinal(d, any_call);
    if (!keep[d.start]) {
      throw GrammarError("the lookahead of rule '" + grammar.rules[r].name + "' (= " +
                         PrintExpr(grammar, grammar.rules[r].lookahead) + ") matches nothing");
    }
    d = Restrict(d, keep, any_call);
    int32_t base = static_cast<int32_t>(a.lookahead_final.size());
    a.rules[r].lookahead_start = base + d.start;
    for (int32_t s = 0; s < d.size(); ++s) {
      if (!d.final[s]) {
        for (const ByteEdge& e : d.bytes(s)) a.lookahead_edges.push_back({e.lo, e.hi, base + e.target});
      }
      a.lookahead_edge_begin.push_back(static_cast<int32_t>(a.lookahead_edges.size()));
      a.lookahead_final.push_back(d.final[s]);
    }
  }
  ComputeStateHashes(&a);
  ctx.budget.CheckTime();
  return automaton;
}

namespace {
std::mutex& LimitsMutex() {
  static std::mutex mutex;
  return mutex;
}
CompileLimits& Limits() {
  static CompileLimits limits;
  return limits;
}
}  // namespace

CompileLimits DefaultCompileLimits() {
  std::lock_guard<std::mutex> lock(LimitsMutex());
  return Limits();
}

void SetDefaultCompileLimits(const CompileLimits& limits) {
  std::lock_guard<std::mutex> lock(LimitsMutex());
  Limits() = limits;
}

}  // namespace xgram
