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

struct NfaEdge {
  enum Kind : uint8_t { kEpsilon, kByte, kCall } kind;
  uint8_t lo = 0;
  uint8_t hi = 0;
  int32_t target = 0;
  int32_t call = -1;  // index into the call-symbol table
};

// Deterministic automaton of one rule before it joins the global numbering.
struct RuleDfa {
  std::vector<std::vector<ByteEdge>> bytes;                   // targets are local ids
  std::vector<std::vector<std::pair<int32_t, int32_t>>> calls;  // (call symbol, target)
  std::vector<uint8_t> final;
  int32_t start = 0;
  int32_t size() const { return static_cast<int32_t>(final.size()); }
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
      : ctx_(ctx), owner_(owner), inline_calls_(inline_calls) {}

  int32_t NewState() {
    edges_.emplace_back();
    ctx_->budget.AddNfaStates(1);
    if (inline_calls_ && edges_.size() > 200000) {
      throw CompileBudgetError("the lookahead of rule '" + ctx_->rules[owner_].name +
                               "' is too large to compile (over 200000 automaton states)");
    }
    return static_cast<int32_t>(edges_.size() - 1);
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
        for (const Utf8Sequence& seq : Utf8Sequences(e.ranges)) {
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

  std::vector<std::vector<NfaEdge>>& edges() { return edges_; }

 private:
  void AddEpsilon(int32_t from, int32_t to) { edges_[from].push_back({NfaEdge::kEpsilon, 0, 0, to, -1}); }
  void AddByte(int32_t from, uint8_t lo, uint8_t hi, int32_t to) {
    edges_[from].push_back({NfaEdge::kByte, lo, hi, to, -1});
  }
  void AddCall(int32_t from, CallSymbol sym, int32_t to) {
    edges_[from].push_back({NfaEdge::kCall, 0, 0, to, ctx_->InternCall(sym)});
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
  std::vector<std::vector<NfaEdge>> edges_;
  std::vector<RuleId> inline_stack_;
};

struct VectorHash {
  size_t operator()(const std::vector<int32_t>& v) const {
    uint64_t h = 1469598103934665603ull;
    for (int32_t x : v) h = (h ^ static_cast<uint32_t>(x)) * 1099511628211ull;
    return static_cast<size_t>(h);
  }
};

RuleDfa Determinize(const std::vector<std::vector<NfaEdge>>& nfa, int32_t start, int32_t accept,
                    Budget* budget) {
  RuleDfa dfa;
  std::unordered_map<std::vector<int32_t>, int32_t, VectorHash> ids;
  std::vector<std::vector<int32_t>> sets;
  std::vector<uint8_t> mark(nfa.size(), 0);

  auto closure = [&](std::vector<int32_t> seeds) {
    std::vector<int32_t> out;
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
    return out;
  };
  auto intern = [&](std::vector<int32_t> set) {
    auto it = ids.find(set);
    if (it != ids.end()) return it->second;
    int32_t id = static_cast<int32_t>(sets.size());
    budget->AddStates(1);
    dfa.final.push_back(std::binary_search(set.begin(), set.end(), accept));
    dfa.bytes.emplace_back();
    dfa.calls.emplace_back();
    ids.emplace(set, id);
    sets.push_back(std::move(set));
    return id;
  };

  dfa.start = intern(closure({start}));
  for (size_t d = 0; d < sets.size(); ++d) {
    // Byte edges: split [0,255] at every range boundary, then collect targets.
    std::vector<int> points;
    std::map<int32_t, std::vector<int32_t>> call_targets;
    for (int32_t s : sets[d]) {
      for (const NfaEdge& e : nfa[s]) {
        if (e.kind == NfaEdge::kByte) {
          points.push_back(e.lo);
          points.push_back(e.hi + 1);
        } else if (e.kind == NfaEdge::kCall) {
          call_targets[e.call].push_back(e.target);
        }
      }
    }
    std::sort(points.begin(), points.end());
    points.erase(std::unique(points.begin(), points.end()), points.end());
    for (size_t p = 0; p + 1 < points.size(); ++p) {
      int lo = points[p], hi = points[p + 1] - 1;
      std::vector<int32_t> targets;
      for (int32_t s : sets[d]) {
        for (const NfaEdge& e : nfa[s]) {
          if (e.kind == NfaEdge::kByte && e.lo <= lo && hi <= e.hi) targets.push_back(e.target);
        }
      }
      if (targets.empty()) continue;
      int32_t t = intern(closure(std::move(targets)));
      auto& out = dfa.bytes[d];
      if (!out.empty() && out.back().target == t && out.back().hi + 1 == lo) {
        out.back().hi = static_cast<uint8_t>(hi);
      } else {
        out.push_back({static_cast<uint8_t>(lo), static_cast<uint8_t>(hi), t});
      }
    }
    for (auto& [call, targets] : call_targets) {
      int32_t t = intern(closure(std::move(targets)));
      dfa.calls[d].push_back({call, t});
    }
  }
  return dfa;
}

// States of `dfa` kept by `keep`; edges into dropped states vanish.
RuleDfa Restrict(const RuleDfa& dfa, const std::vector<uint8_t>& keep) {
  std::vector<int32_t> new_id(dfa.size(), -1);
  RuleDfa out;
  for (int32_t s = 0; s < dfa.size(); ++s) {
    if (keep[s]) {
      new_id[s] = out.size();
      out.final.push_back(dfa.final[s]);
      out.bytes.emplace_back();
      out.calls.emplace_back();
    }
  }
  for (int32_t s = 0; s < dfa.size(); ++s) {
    if (!keep[s]) continue;
    for (const ByteEdge& e : dfa.bytes[s]) {
      if (new_id[e.target] >= 0) out.bytes[new_id[s]].push_back({e.lo, e.hi, new_id[e.target]});
    }
    for (auto [call, t] : dfa.calls[s]) {
      if (new_id[t] >= 0) out.calls[new_id[s]].push_back({call, new_id[t]});
    }
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
  // Signatures live in one flat arena and classes come from sorting them, so a
  // round allocates nothing per state.
  std::vector<int64_t> arena;
  std::vector<int32_t> begin(n + 1);
  std::vector<int32_t> order(n);
  std::vector<int32_t> next(n);
  auto sig_less = [&](int32_t a, int32_t b) {
    return std::lexicographical_compare(arena.begin() + begin[a], arena.begin() + begin[a + 1],
                                        arena.begin() + begin[b], arena.begin() + begin[b + 1]);
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
      for (const ByteEdge& e : dfa.bytes[s]) {
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
      for (auto [call, t] : dfa.calls[s]) {
        arena.push_back(call);
        arena.push_back(cls[t]);
      }
    }
    begin[n] = static_cast<int32_t>(arena.size());
    for (int32_t s = 0; s < n; ++s) order[s] = s;
    std::sort(order.begin(), order.end(), sig_less);
    int32_t count = 0;
    for (int32_t i = 0; i < n; ++i) {
      if (i > 0 && !sig_equal(order[i], order[i - 1])) ++count;
      next[order[i]] = count;
    }
    count = n > 0 ? count + 1 : 0;
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
    for (const ByteEdge& e : dfa.bytes[rep]) visit(e.target);
    for (auto [call, t] : dfa.calls[rep]) visit(t);
  }
  RuleDfa out;
  out.start = 0;
  for (int32_t c : queue) {
    int32_t rep = representative[c];
    out.final.push_back(dfa.final[rep]);
    std::vector<ByteEdge> bytes;
    for (const ByteEdge& e : dfa.bytes[rep]) {
      int32_t t = order_id[cls[e.target]];
      if (!bytes.empty() && bytes.back().target == t && bytes.back().hi + 1 == e.lo) {
        bytes.back().hi = e.hi;
      } else {
        bytes.push_back({e.lo, e.hi, t});
      }
    }
    out.bytes.push_back(std::move(bytes));
    std::vector<std::pair<int32_t, int32_t>> calls;
    for (auto [call, t] : dfa.calls[rep]) calls.push_back({call, order_id[cls[t]]});
    out.calls.push_back(std::move(calls));
  }
  return out;
}

std::vector<uint8_t> ReachableFromStart(const RuleDfa& dfa) {
  std::vector<uint8_t> seen(dfa.size(), 0);
  std::vector<int32_t> work{dfa.start};
  seen[dfa.start] = 1;
  while (!work.empty()) {
    int32_t s = work.back();
    work.pop_back();
    auto visit = [&](int32_t t) {
      if (!seen[t]) seen[t] = 1, work.push_back(t);
    };
    for (const ByteEdge& e : dfa.bytes[s]) visit(e.target);
    for (auto [call, t] : dfa.calls[s]) visit(t);
  }
  return seen;
}

std::vector<uint8_t> CanReachFinal(const RuleDfa& dfa) {
  std::vector<std::vector<int32_t>> reverse(dfa.size());
  for (int32_t s = 0; s < dfa.size(); ++s) {
    for (const ByteEdge& e : dfa.bytes[s]) reverse[e.target].push_back(s);
    for (auto [call, t] : dfa.calls[s]) reverse[t].push_back(s);
  }
  std::vector<uint8_t> seen(dfa.size(), 0);
  std::vector<int32_t> work;
  for (int32_t s = 0; s < dfa.size(); ++s) {
    if (dfa.final[s]) seen[s] = 1, work.push_back(s);
  }
  while (!work.empty()) {
    int32_t s = work.back();
    work.pop_back();
    for (int32_t p : reverse[s]) {
      if (!seen[p]) seen[p] = 1, work.push_back(p);
    }
  }
  return seen;
}

RuleDfa DropCallsTo(const RuleDfa& dfa, const std::vector<CallSymbol>& symbols,
                    const std::vector<uint8_t>& productive) {
  RuleDfa out = dfa;
  for (auto& calls : out.calls) {
    calls.erase(std::remove_if(calls.begin(), calls.end(),
                               [&](const std::pair<int32_t, int32_t>& c) {
                                 return !productive[symbols[c.first].rule];
                               }),
                calls.end());
  }
  return out;
}

}  // namespace

AutomatonPtr BuildAutomaton(const Grammar& grammar, const CompileLimits& limits) {
  BuildContext ctx(grammar, limits);

  // 1-2. Per-rule DFAs (helper rules for counted repetitions are appended on the way).
  std::vector<RuleDfa> dfas;
  for (size_t r = 0; r < ctx.rules.size(); ++r) {
    NfaBuilder nfa(&ctx, static_cast<RuleId>(r), /*inline_calls=*/false);
    int32_t start = nfa.NewState();
    int32_t accept = nfa.Build(ctx.rule_bodies[r], start);
    dfas.push_back(Determinize(nfa.edges(), start, accept, &ctx.budget));
  }
  size_t num_rules = ctx.rules.size();

  // 3. Productivity fixpoint, then pruning.
  std::vector<uint8_t> productive(num_rules, 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < num_rules; ++r) {
      if (productive[r]) continue;
      RuleDfa pruned = DropCallsTo(dfas[r], ctx.call_symbols, productive);
      if (CanReachFinal(pruned)[pruned.start]) productive[r] = 1, changed = true;
    }
  }
  if (!productive[grammar.root]) {
    throw GrammarError("the grammar accepts no string: rule '" + grammar.rules[grammar.root].name +
                       "' can never complete (every alternative needs a rule that never ends)");
  }
  for (size_t r = 0; r < num_rules; ++r) {
    RuleDfa pruned = DropCallsTo(dfas[r], ctx.call_symbols, productive);
    if (!productive[r]) {
      RuleDfa empty;
      empty.final = {0};
      empty.bytes.emplace_back();
      empty.calls.emplace_back();
      dfas[r] = empty;
      continue;
    }
    std::vector<uint8_t> keep = ReachableFromStart(pruned);
    std::vector<uint8_t> live = CanReachFinal(pruned);
    for (size_t s = 0; s < keep.size(); ++s) keep[s] = keep[s] && live[s];
    // 4. Minimise.
    dfas[r] = Minimize(Restrict(pruned, keep), ctx.budget);
  }

  // Nullable rules: a path from start to final through calls of nullable rules only.
  std::vector<uint8_t> nullable(num_rules, 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < num_rules; ++r) {
      if (nullable[r]) continue;
      const RuleDfa& d = dfas[r];
      std::vector<uint8_t> seen(d.size(), 0);
      std::vector<int32_t> work{d.start};
      seen[d.start] = 1;
      while (!work.empty() && !nullable[r]) {
        int32_t s = work.back();
        work.pop_back();
        if (d.final[s]) nullable[r] = 1, changed = true;
        for (auto [call, t] : d.calls[s]) {
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
      for (const ByteEdge& e : dfas[r].bytes[s]) {
        a.byte_edges.push_back({e.lo, e.hi, offset[r] + e.target});
      }
      std::vector<CallEdge> calls;
      for (auto [call, t] : dfas[r].calls[s]) {
        const CallSymbol& sym = ctx.call_symbols[call];
        // Extra iterations of a nullable rule can be empty, so only one is needed.
        int32_t min = (sym.min > 1 && nullable[sym.rule]) ? 1 : sym.min;
        calls.push_back({sym.rule, offset[r] + t, min, sym.max});
      }
      std::sort(calls.begin(), calls.end(), [](const CallEdge& x, const CallEdge& y) {
        return std::tie(x.rule, x.min_calls, x.max_calls) < std::tie(y.rule, y.min_calls, y.max_calls);
      });
      a.call_edges.insert(a.call_edges.end(), calls.begin(), calls.end());
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
    RuleDfa d = Determinize(nfa.edges(), start, accept, &ctx.budget);
    if (d.final[d.start]) continue;  // an assertion that holds on "" always holds
    std::vector<uint8_t> keep = CanReachFinal(d);
    if (!keep[d.start]) {
      throw GrammarError("the lookahead of rule '" + grammar.rules[r].name + "' (= " +
                         PrintExpr(grammar, grammar.rules[r].lookahead) + ") matches nothing");
    }
    d = Restrict(d, keep);
    int32_t base = static_cast<int32_t>(a.lookahead_final.size());
    a.rules[r].lookahead_start = base + d.start;
    for (int32_t s = 0; s < d.size(); ++s) {
      if (!d.final[s]) {
        for (const ByteEdge& e : d.bytes[s]) a.lookahead_edges.push_back({e.lo, e.hi, base + e.target});
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
