// Grammar IR -> Automaton (see automaton.h).
//
// Per rule:
//   1. Thompson construction of an NFA whose edges are epsilon, a byte range or a
//      call symbol (rule, min, max). Character classes become UTF-8 byte-range
//      sequences (utf8_ranges.h). Small repetitions are unrolled; large ones become
//      one *counted* call of a helper rule holding the repeated expression, so
//      `[a-z]{0,100000}` costs three states.
//   2. Subset construction: byte edges are split into disjoint ranges and call
//      symbols are treated as letters, giving a DFA over bytes and calls. Call
//      symbols are numbered per rule, so a rule's DFA depends on its body alone
//      and steps 1-2 (and 4, where every callee is productive) are skipped for a
//      body built before in the process (rule_dfa_cache.h).
// Over the whole grammar:
//   3. Productivity: a rule is productive when some path from its start to a final
//      state uses only bytes and calls of productive rules. Calls of unproductive
//      rules are removed, then states that are unreachable or cannot reach a final
//      state are trimmed. So every surviving thread of the matcher can still
//      complete, which makes "is a valid prefix" exact.
//   4. Minimisation (partition refinement) and breadth-first renumbering, which gives every state a
//      canonical id within its rule.
// Lookaheads are compiled like rule bodies with every call inlined (they must be
// regular) into one shared plain-byte DFA. A difference `a - b` compiles both
// operands the same way, each to its own DFA, and splices their product (which
// accepts what `a` does and `b` does not) into the rule's NFA: `"\"" ([^"]* -
// ("name" | "age")) "\""` costs the grammar text of the words and a trie-shaped
// DFA, where spelling the complement out in EBNF needs three tries of text.
// The per-rule containers and algorithms (steps 2 and 4, trimming) live in
// rule_dfa.h; this file builds the NFAs and runs the whole-grammar steps.
#include <algorithm>
#include <array>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <unordered_map>

#include "automaton.h"
#include "errors.h"
#include "flat_set.h"
#include "grammar_printer.h"
#include "rule_dfa.h"
#include "rule_dfa_cache.h"
#include "utf8_ranges.h"

namespace xgram {
namespace {

using rule_dfa::Budget;
using rule_dfa::CachedRule;
using rule_dfa::Callee;
using rule_dfa::LocalCall;
using rule_dfa::RuleCache;
using rule_dfa::RuleKey;
using rule_dfa::RuleKeyWriter;
using rule_dfa::CanReachFinal;
using rule_dfa::Determinize;
using rule_dfa::MarkReachable;
using rule_dfa::ProductKind;
using rule_dfa::Minimize;
using rule_dfa::Restrict;
using rule_dfa::DeterminizeScratch;
using rule_dfa::Nfa;
using rule_dfa::NfaEdge;
using rule_dfa::RuleDfa;

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

// Shared state of the whole build: call symbols and helper rules for counted
// repetitions, which are appended to the rule list while rules are built.
struct BuildContext {
  const Grammar& grammar;
  const CompileLimits& limits;
  Budget budget;
  // Call symbols of the rule being built, numbered in order of first appearance
  // so that a rule's DFA does not depend on the rest of the grammar
  // (rule_dfa_cache.h), and those of every rule built, by the ids its DFA uses.
  std::vector<CallSymbol> rule_call_symbols;
  std::map<CallSymbol, int32_t> rule_call_ids;
  std::vector<std::vector<CallSymbol>> calls_of_rule;
  std::vector<AutomatonRule> rules;
  std::vector<ExprId> rule_bodies;
  std::unordered_map<ExprId, RuleId> helper_for_expr;
  std::unordered_map<ExprId, int64_t> tree_size;
  // NFA edges, reused from rule to rule so their storage is allocated once.
  std::vector<NfaEdge> nfa_edges;
  // UTF-8 sequences of each character-class expression (interned, so shared).
  std::unordered_map<ExprId, std::vector<Utf8Sequence>> utf8_sequences;
  // Differences: the DFA of each operand and of each product, built on first
  // use (the operand `chars*` of every key exclusion is one interned expression).
  // Operand NFAs are built into edge buffers kept per nesting depth (a deque, so
  // a deeper level never moves a shallower one's buffer) and determinised with
  // the rule loop's scratch, which is idle while a rule's NFA is being built.
  std::unordered_map<ExprId, RuleDfa> operand_dfas;
  std::unordered_map<ExprId, RuleDfa> difference_dfas;
  std::deque<std::vector<NfaEdge>> operand_edges;
  size_t operand_depth = 0;
  DeterminizeScratch* scratch = nullptr;

  const std::vector<Utf8Sequence>& SequencesOf(ExprId id) {
    auto it = utf8_sequences.find(id);
    if (it == utf8_sequences.end()) {
      it = utf8_sequences.emplace(id, Utf8Sequences(grammar.exprs[id].ranges.ToVector())).first;
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
    auto it = rule_call_ids.find(sym);
    if (it != rule_call_ids.end()) return it->second;
    int32_t id = static_cast<int32_t>(rule_call_symbols.size());
    rule_call_symbols.push_back(sym);
    rule_call_ids.emplace(sym, id);
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

// Where an NFA is being built with every call inlined, for the error messages.
enum class InlinedPart { kNone, kLookahead, kDifferenceOperand };

class NfaBuilder {
 public:
  // `inlined`: expand rule references in place (for lookaheads and the
  // operands of `a - b`, which must be regular); `owner` names the rule for
  // helper names and errors. Edges go to `edges` (cleared), by default the
  // context's buffer shared from rule to rule.
  NfaBuilder(BuildContext* ctx, RuleId owner, InlinedPart inlined, std::vector<NfaEdge>* edges = nullptr)
      : ctx_(ctx),
        owner_(owner),
        inlined_(inlined),
        edges_(edges != nullptr ? *edges : ctx->nfa_edges) {
    edges_.clear();
  }

  int32_t NewState() {
    ++size_;
    ctx_->budget.AddNfaStates(1);
    if (InlinesCalls() && size_ > 200000) {
      throw CompileBudgetError(InlinedWhat() + " is too large to compile (over 200000 automaton states)");
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
        // Sequences are built from their last byte back, sharing equal suffixes
        // (RE2's suffix cache): all of [\x80-\u{10FFFF}] needs 7 inner NFA states, not 18.
        int32_t end = NewState();
        suffixes_.clear();
        for (const Utf8Sequence& seq : ctx_->SequencesOf(id)) {
          int32_t next = end;
          for (size_t i = seq.size() - 1; i > 0; --i) next = SuffixState(seq[i], next);
          AddByte(start, seq[0].lo, seq[0].hi, next);
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
      case ExprKind::kDifference:
      case ExprKind::kIntersection:
        return BuildDifference(id, start);
    }
    return start;
  }

  // The automaton built so far, grouped by state into `out`.
  void Finish(Nfa* out, int32_t accept) const { out->Assign(edges_, static_cast<int32_t>(size_), accept); }

 private:
  void AddEpsilon(int32_t from, int32_t to) { edges_.push_back({NfaEdge::kEpsilon, 0, 0, from, to, -1}); }
  void AddByte(int32_t from, uint8_t lo, uint8_t hi, int32_t to) {
    edges_.push_back({NfaEdge::kByte, lo, hi, from, to, -1});
  }
  void AddCall(int32_t from, CallSymbol sym, int32_t to) {
    edges_.push_back({NfaEdge::kCall, 0, 0, from, to, ctx_->InternCall(sym)});
  }

  // A state whose only edge reads `range` into `next`, shared within one class
  // (hashed: a class of many scattered code points has thousands of suffixes).
  int32_t SuffixState(ByteRange range, int32_t next) {
    uint64_t key = (static_cast<uint64_t>(next) << 16) | (uint64_t{range.hi} << 8) | range.lo;
    auto [it, inserted] = suffixes_.try_emplace(key, 0);
    if (inserted) {
      it->second = NewState();
      AddByte(it->second, range.lo, range.hi, next);
    }
    return it->second;
  }

  int32_t BuildRuleRef(RuleId rule, int32_t start) {
    if (!InlinesCalls()) {
      int32_t end = NewState();
      AddCall(start, {rule, 1, 1}, end);
      return end;
    }
    if (std::find(inline_stack_.begin(), inline_stack_.end(), rule) != inline_stack_.end()) {
      throw GrammarError(InlinedWhat() + " refers to the recursive rule '" + ctx_->grammar.rules[rule].name +
                         (inlined_ == InlinedPart::kLookahead
                              ? "'; lookahead assertions must be regular (no recursion)"
                              : "'; both operands of '-' must be regular (no recursion)"));
    }
    if (ctx_->grammar.rules[rule].lookahead != kNone) {
      throw GrammarError(InlinedWhat() + " refers to rule '" + ctx_->grammar.rules[rule].name +
                         (inlined_ == InlinedPart::kLookahead
                              ? "', which has a lookahead of its own; a lookahead cannot nest another"
                              : "', which has a lookahead; an operand of '-' cannot hold one"));
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
    bool unroll = InlinesCalls() || ctx_->ShouldUnroll(e, ctx_->UnrolledSize(child));
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

  bool InlinesCalls() const { return inlined_ != InlinedPart::kNone; }

  std::string InlinedWhat() const {
    const std::string& name = ctx_->rules[owner_].name;
    return inlined_ == InlinedPart::kLookahead ? "the lookahead of rule '" + name + "'"
                                               : "an operand of '-' or '&' in rule '" + name + "'";
  }

  // `a - b`: both operands are compiled on their own (calls inlined) to DFAs,
  // their product is built once per expression (rule_dfa::Difference), and its
  // states are copied into this NFA between `start` and a fresh end state.
  int32_t BuildDifference(ExprId id, int32_t start) {
    auto it = ctx_->difference_dfas.find(id);
    if (it == ctx_->difference_dfas.end()) {
      const Expr& e = ctx_->grammar.exprs[id];
      ProductKind kind = e.kind == ExprKind::kDifference ? ProductKind::kDifference : ProductKind::kIntersection;
      ExprId left = e.children[0];
      ExprId right = e.children[1];
      // `a & b` is symmetric: a long repetition goes right, where it can be counted.
      if (kind == ProductKind::kIntersection && IsLongRepeat(left) && !IsLongRepeat(right)) std::swap(left, right);
      const RuleDfa& minuend = OperandDfa(left);
      RuleDfa product;
      const RuleDfa* unit = IsLongRepeat(right) ? &OperandDfa(ctx_->grammar.exprs[right].children[0]) : nullptr;
      if (unit != nullptr && rule_dfa::IsPrefixFreeUnit(*unit)) {
        const Expr& repeat = ctx_->grammar.exprs[right];
        product = rule_dfa::ProductWithRepeat(minuend, *unit, repeat.min, repeat.max, kind, &ctx_->budget);
      } else {
        product = rule_dfa::Product(minuend, OperandDfa(right), kind, &ctx_->budget);
      }
      it = ctx_->difference_dfas.emplace(id, std::move(product)).first;
    }
    const RuleDfa& dfa = it->second;
    int32_t first = static_cast<int32_t>(size_);
    for (int32_t s = 0; s < dfa.size(); ++s) NewState();
    int32_t end = NewState();
    AddEpsilon(start, first + dfa.start);
    for (int32_t s = 0; s < dfa.size(); ++s) {
      for (const ByteEdge& edge : dfa.bytes(s)) AddByte(first + s, edge.lo, edge.hi, first + edge.target);
      if (dfa.final[s]) AddEpsilon(first + s, end);
    }
    return end;
  }

  // Whether `operand` is `x{m,n}` with enough copies that counting them in the
  // product (rule_dfa::ProductWithRepeat) beats building the repetition: length
  // bounds intersected with a pattern, `any{0,4096}`.
  bool IsLongRepeat(ExprId operand) const {
    const Expr& e = ctx_->grammar.exprs[operand];
    constexpr int32_t kCountFrom = 16;
    return e.kind == ExprKind::kRepeat && (e.max == kUnbounded ? e.min : e.max) >= kCountFrom;
  }

  // The DFA of an operand of `a - b`, every call inlined (map entries stay put).
  const RuleDfa& OperandDfa(ExprId operand) {
    auto it = ctx_->operand_dfas.find(operand);
    if (it != ctx_->operand_dfas.end()) return it->second;
    if (ctx_->operand_edges.size() <= ctx_->operand_depth) ctx_->operand_edges.emplace_back();
    NfaBuilder builder(ctx_, owner_, InlinedPart::kDifferenceOperand, &ctx_->operand_edges[ctx_->operand_depth]);
    ++ctx_->operand_depth;
    int32_t start = builder.NewState();
    int32_t accept = builder.Build(operand, start);
    --ctx_->operand_depth;
    DeterminizeScratch* scratch = ctx_->scratch;
    builder.Finish(&scratch->nfa, accept);
    RuleDfa dfa = Determinize(scratch->nfa, start, accept, &ctx_->budget, scratch);
    return ctx_->operand_dfas.emplace(operand, std::move(dfa)).first->second;
  }

  BuildContext* ctx_;
  RuleId owner_;
  InlinedPart inlined_;
  std::vector<NfaEdge>& edges_;
  size_t size_ = 0;
  std::vector<RuleId> inline_stack_;
  std::unordered_map<uint64_t, int32_t> suffixes_;  // (next, hi, lo) -> state, current class
};

// A rule the cache lacked, built by this grammar; inserted once the whole
// build has succeeded.
struct FreshRule {
  RuleId rule;
  RuleKey key;
  std::shared_ptr<CachedRule> entry;
};

// Completes the entries of the rules this build made (their call symbols as
// callee ordinals, and their minimised DFA where the rule and every callee were
// productive, which makes trimming independent of the grammar) and inserts them.
void InsertFreshRules(const BuildContext& ctx, std::vector<RuleDfa>* dfas,
                      const std::vector<uint8_t>& productive, const std::vector<uint8_t>& every_callee_productive,
                      std::vector<FreshRule>* fresh, RuleCache* cache) {
  std::vector<RuleId> callee_rules;
  for (FreshRule& f : *fresh) {
    callee_rules.clear();
    for (const Callee& c : f.key.callees) {
      if (!c.helper) {
        callee_rules.push_back(c.id);
        continue;
      }
      auto it = ctx.helper_for_expr.find(c.id);
      callee_rules.push_back(it == ctx.helper_for_expr.end() ? kNone : it->second);
    }
    bool complete = true;
    for (const CallSymbol& sym : ctx.calls_of_rule[f.rule]) {
      auto it = std::find(callee_rules.begin(), callee_rules.end(), sym.rule);
      if (it == callee_rules.end()) {
        complete = false;  // cannot happen: the key names every rule the body calls
        break;
      }
      f.entry->calls.push_back({static_cast<int32_t>(it - callee_rules.begin()), sym.min, sym.max});
    }
    if (!complete) continue;
    if (productive[f.rule] && every_callee_productive[f.rule]) {
      f.entry->minimized = std::move((*dfas)[f.rule]);  // the build is done with it
      f.entry->has_minimized = true;
    }
    cache->Insert(std::move(f.key.bytes), std::move(f.entry));
  }
}

// The rules' DFAs: those built here, in `dfas`; a cached or fresh entry's
// determinised DFA is read in place through `view` (set once every rule is
// built, as `dfas` grows with the helper rules), never copied.
struct RuleDfas {
  std::vector<RuleDfa> dfas;
  std::vector<const RuleDfa*> view;
  std::vector<std::shared_ptr<const CachedRule>> hit_of_rule;
  std::vector<FreshRule> fresh;  // built here, to insert into the cache at the end
};

// 1-2. Per-rule DFAs (helper rules for counted repetitions are appended on the
// way), each taken from the process-wide cache when a rule with the same body
// was built before (rule_dfa_cache.h).
void DeterminizeRules(BuildContext& ctx, RuleCache& cache, RuleDfas* out) {
  const bool use_cache = cache.capacity() > 0;
  auto unrolls = [&ctx](ExprId id) {
    const Expr& e = ctx.grammar.exprs[id];
    return ctx.ShouldUnroll(e, ctx.UnrolledSize(e.children[0]));
  };
  RuleKeyWriter<decltype(unrolls)> key_writer(ctx.grammar, unrolls);
  RuleKey key;
  std::vector<FreshRule>& fresh = out->fresh;
  std::vector<std::shared_ptr<const CachedRule>>& hit_of_rule = out->hit_of_rule;
  std::vector<RuleDfa>& dfas = out->dfas;
  std::vector<const RuleDfa*>& view = out->view;
  DeterminizeScratch& scratch = *ctx.scratch;
  for (size_t r = 0; r < ctx.rules.size(); ++r) {
    PollCompileControl();
    RuleId rule = static_cast<RuleId>(r);
    ctx.calls_of_rule.emplace_back();
    hit_of_rule.emplace_back();
    bool keyed = use_cache && key_writer.Write(ctx.rule_bodies[r], &key);
    if (keyed) {
      if (std::shared_ptr<const CachedRule> hit = cache.Find(key.bytes)) {
        // Callees resolve in the order the NFA builder would meet them, so helper
        // rules get the ids and names a build without the cache gives them.
        std::vector<RuleId> callee_rules;
        for (const Callee& c : key.callees) {
          callee_rules.push_back(c.helper ? ctx.HelperRule(c.id, ctx.rules[r].name) : c.id);
        }
        for (const LocalCall& c : hit->calls) ctx.calls_of_rule[r].push_back({callee_rules[c.callee], c.min, c.max});
        ctx.budget.AddNfaStates(hit->nfa_states);
        ctx.budget.AddStates(hit->dfa_states);
        dfas.emplace_back();
        hit_of_rule[r] = std::move(hit);
        continue;
      }
    }
    int64_t nfa_states_before = ctx.budget.nfa_states(), states_before = ctx.budget.states();
    ctx.rule_call_symbols.clear();
    ctx.rule_call_ids.clear();
    NfaBuilder nfa(&ctx, rule, InlinedPart::kNone);
    int32_t start = nfa.NewState();
    int32_t accept = nfa.Build(ctx.rule_bodies[r], start);
    nfa.Finish(&scratch.nfa, accept);
    dfas.push_back(Determinize(scratch.nfa, start, accept, &ctx.budget, &scratch));
    ctx.calls_of_rule[r] = ctx.rule_call_symbols;
    if (keyed) {
      auto entry = std::make_shared<CachedRule>();
      entry->determinized = std::move(dfas.back());
      entry->nfa_states = ctx.budget.nfa_states() - nfa_states_before;
      entry->dfa_states = ctx.budget.states() - states_before;
      fresh.push_back({rule, std::move(key), std::move(entry)});
    }
  }
  size_t num_rules = ctx.rules.size();
  view.resize(num_rules);
  for (size_t r = 0; r < num_rules; ++r) {
    view[r] = hit_of_rule[r] ? &hit_of_rule[r]->determinized : &dfas[r];
  }
  for (const FreshRule& f : fresh) view[f.rule] = &f.entry->determinized;

}

// 3. The productive rules: those with a path from start to a final state
// through calls of productive rules only (a fixpoint).
std::vector<uint8_t> ProductiveRules(const BuildContext& ctx, const std::vector<const RuleDfa*>& view) {
  size_t num_rules = ctx.rules.size();
  std::vector<uint8_t> productive(num_rules, 0);
  std::vector<uint8_t> seen;
  std::vector<int32_t> work;
  auto productive_call_of = [&](size_t r) {
    return [&, r](int32_t call) { return productive[ctx.calls_of_rule[r][call].rule] != 0; };
  };
  // Rules come callers first (the root, then what it calls), so the fixpoint
  // visits them backwards: a callee is usually settled before its callers.
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = num_rules; r-- > 0;) {
      if (productive[r]) continue;
      if (MarkReachable(*view[r], view[r]->start, productive_call_of(r), /*stop_at_final=*/true, &seen, &work)) {
        productive[r] = 1, changed = true;
      }
    }
  }
  if (!productive[ctx.grammar.root]) {
    throw GrammarError("the grammar accepts no string: rule '" + ctx.grammar.rules[ctx.grammar.root].name +
                       "' can never complete (every alternative needs a rule that never ends)");
  }
  return productive;
}

// 3-4. Each rule trimmed to the states that are reachable through productive
// calls and can still end, then minimised (or the cache's minimised DFA when
// the rule and every callee are productive); unproductive rules become empty.
void TrimAndMinimize(BuildContext& ctx, const std::vector<uint8_t>& productive,
                     const std::vector<uint8_t>& every_callee_productive, RuleDfas* rules) {
  size_t num_rules = ctx.rules.size();
  std::vector<RuleDfa>& dfas = rules->dfas;
  std::vector<const RuleDfa*>& view = rules->view;
  const std::vector<std::shared_ptr<const CachedRule>>& hit_of_rule = rules->hit_of_rule;
  auto productive_call_of = [&](size_t r) {
    return [&, r](int32_t call) { return productive[ctx.calls_of_rule[r][call].rule] != 0; };
  };
  std::vector<uint8_t> seen;
  std::vector<int32_t> work;
  rule_dfa::MinimizeScratch minimize_scratch;
  for (size_t r = 0; r < num_rules; ++r) {
    if (!productive[r]) {
      RuleDfa empty;
      empty.final = {0};
      empty.CloseState();
      dfas[r] = std::move(empty);
      view[r] = &dfas[r];
      continue;
    }
    const CachedRule* hit = hit_of_rule[r].get();
    if (hit != nullptr && hit->has_minimized && every_callee_productive[r]) {
      view[r] = &hit->minimized;
      continue;
    }
    auto productive_call = productive_call_of(r);
    MarkReachable(*view[r], view[r]->start, productive_call, /*stop_at_final=*/false, &seen, &work);
    std::vector<uint8_t> keep = CanReachFinal(*view[r], productive_call);
    for (size_t s = 0; s < keep.size(); ++s) keep[s] = keep[s] && seen[s];
    // 4. Minimise.
    dfas[r] = Minimize(Restrict(*view[r], keep, productive_call), ctx.budget, &minimize_scratch);
    view[r] = &dfas[r];
  }
}

// Nullable rules: a path from start to final through calls of nullable rules only.
std::vector<uint8_t> NullableRules(const BuildContext& ctx, const std::vector<const RuleDfa*>& view) {
  size_t num_rules = ctx.rules.size();
  std::vector<uint8_t> seen;
  std::vector<int32_t> work;
  std::vector<uint8_t> nullable(num_rules, 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = num_rules; r-- > 0;) {  // backwards, as for productivity
      if (nullable[r]) continue;
      const RuleDfa& d = *view[r];
      seen.assign(d.size(), 0);
      work.assign(1, d.start);
      seen[d.start] = 1;
      while (!work.empty() && !nullable[r]) {
        int32_t s = work.back();
        work.pop_back();
        if (d.final[s]) nullable[r] = 1, changed = true;
        for (auto [call, t] : d.calls(s)) {
          if (nullable[ctx.calls_of_rule[r][call].rule] && !seen[t]) seen[t] = 1, work.push_back(t);
        }
      }
    }
  }

  return nullable;
}

// The rules' DFAs in one global numbering: rule r's states at offset[r].
void AssembleStates(const BuildContext& ctx, const std::vector<const RuleDfa*>& view,
                    const std::vector<uint8_t>& nullable, Automaton* automaton) {
  Automaton& a = *automaton;
  size_t num_rules = ctx.rules.size();
  std::vector<int32_t> offset(num_rules + 1, 0);
  for (size_t r = 0; r < num_rules; ++r) offset[r + 1] = offset[r] + view[r]->size();
  {
    size_t num_states = static_cast<size_t>(offset[num_rules]), num_bytes = 0, num_calls = 0;
    for (size_t r = 0; r < num_rules; ++r) num_bytes += view[r]->byte_edges.size(), num_calls += view[r]->call_edges.size();
    a.byte_edges.reserve(num_bytes);
    a.call_edges.reserve(num_calls);
    a.byte_edge_begin.reserve(num_states + 1);
    a.call_edge_begin.reserve(num_states + 1);
    a.is_final.reserve(num_states);
    a.state_rule.reserve(num_states);
  }
  a.byte_edge_begin.push_back(0);
  a.call_edge_begin.push_back(0);
  for (size_t r = 0; r < num_rules; ++r) {
    const RuleDfa& dfa = *view[r];
    a.rules[r].start = offset[r] + dfa.start;
    a.rules[r].nullable = nullable[r];
    for (int32_t s = 0; s < dfa.size(); ++s) {
      for (const ByteEdge& e : dfa.bytes(s)) {
        a.byte_edges.push_back({e.lo, e.hi, offset[r] + e.target});
      }
      size_t calls_begin = a.call_edges.size();
      for (auto [call, t] : dfa.calls(s)) {
        const CallSymbol& sym = ctx.calls_of_rule[r][call];
        // Extra iterations of a nullable rule can be empty, so only one is needed.
        int32_t min = (sym.min > 1 && nullable[sym.rule]) ? 1 : sym.min;
        a.call_edges.push_back({sym.rule, offset[r] + t, min, sym.max});
      }
      std::sort(a.call_edges.begin() + calls_begin, a.call_edges.end(), [](const CallEdge& x, const CallEdge& y) {
        return std::tie(x.rule, x.min_calls, x.max_calls) < std::tie(y.rule, y.min_calls, y.max_calls);
      });
      a.byte_edge_begin.push_back(static_cast<int32_t>(a.byte_edges.size()));
      a.call_edge_begin.push_back(static_cast<int32_t>(a.call_edges.size()));
      a.is_final.push_back(dfa.final[s]);
      a.state_rule.push_back(static_cast<RuleId>(r));
    }
  }

}

// Call sites, for matchers that must continue a rule in every possible context.
void IndexCallSites(size_t num_rules, Automaton* automaton) {
  Automaton& a = *automaton;
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

}

// Lookaheads: one plain byte DFA; reaching a final state satisfies the assertion,
// so final states need no outgoing edges.
void BuildLookaheads(BuildContext& ctx, Automaton* automaton) {
  Automaton& a = *automaton;
  const Grammar& grammar = ctx.grammar;
  DeterminizeScratch& scratch = *ctx.scratch;
  a.lookahead_edge_begin.push_back(0);
  for (size_t r = 0; r < grammar.rules.size(); ++r) {
    if (grammar.rules[r].lookahead == kNone) continue;
    NfaBuilder nfa(&ctx, static_cast<RuleId>(r), InlinedPart::kLookahead);
    int32_t start = nfa.NewState();
    int32_t accept = nfa.Build(grammar.rules[r].lookahead, start);
    nfa.Finish(&scratch.nfa, accept);
    RuleDfa d = Determinize(scratch.nfa, start, accept, &ctx.budget, &scratch);
    if (d.final[d.start]) continue;  // an assertion that holds on "" always holds
    if (static_cast<RuleId>(r) == grammar.root) {
      // Every parse ends with the outermost call of the root, after which the
      // input ends: a lookahead there must match "", and this one cannot.
      throw GrammarError("the grammar accepts no string: the root rule '" + grammar.rules[r].name +
                         "' has a lookahead (= " + PrintExpr(grammar, grammar.rules[r].lookahead) +
                         ") that nothing can meet, since the input ends after the root");
    }
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
}

}  // namespace

AutomatonPtr BuildAutomaton(const Grammar& grammar, const CompileLimits& limits) {
  BuildContext ctx(grammar, limits);
  DeterminizeScratch scratch;
  ctx.scratch = &scratch;
  RuleCache& cache = RuleCache::Global();
  RuleDfas rules;
  DeterminizeRules(ctx, cache, &rules);
  size_t num_rules = ctx.rules.size();
  std::vector<uint8_t> productive = ProductiveRules(ctx, rules.view);
  std::vector<uint8_t> every_callee_productive(num_rules, 1);
  for (size_t r = 0; r < num_rules; ++r) {
    for (const CallSymbol& c : ctx.calls_of_rule[r]) every_callee_productive[r] &= productive[c.rule];
  }
  TrimAndMinimize(ctx, productive, every_callee_productive, &rules);
  std::vector<uint8_t> nullable = NullableRules(ctx, rules.view);

  auto automaton = std::make_shared<Automaton>();
  Automaton& a = *automaton;
  a.root = grammar.root;
  a.rules = ctx.rules;
  AssembleStates(ctx, rules.view, nullable, &a);
  IndexCallSites(num_rules, &a);
  BuildLookaheads(ctx, &a);
  ComputeStateHashes(&a);
  ctx.budget.CheckTime();
  InsertFreshRules(ctx, &rules.dfas, productive, every_callee_productive, &rules.fresh, &cache);
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
