// A process-wide cache of rule automata, keyed by what a rule's body says.
//
// Grammars made from JSON schemas share most of their rules: every object that
// allows extra keys carries the same json_value, json_string and ws rules, and
// every `"type": "integer"` the same number rules under other names. On 200
// MaskBench schemas compiled in turn, 66% of the emitted EBNF rules repeat a rule
// of an earlier schema up to the names of the rules they call, and after
// normalisation 49% of the rules built find their DFA here.
//
// A rule's DFA (automaton_builder.cc, steps 1-2) depends only on its body: the
// bytes, classes and repetitions, whether each repetition is unrolled or becomes
// a counted call of a helper rule, the operands of each difference (with their
// calls inlined), and *which* rules it calls, but not their ids: call symbols
// are numbered per rule, in order of first appearance (rule_dfa.h), so a
// rule's DFA is the same in every grammar. The key is therefore a byte string
// written from the body (RuleKey below) in which each callee is replaced by its
// ordinal of first appearance, and the value is the DFA with its call symbols as
// (callee ordinal, min, max); the builder maps the ordinals back to the rules of
// the grammar at hand. The minimised DFA is stored too for the grammars in which
// every callee is productive (trimming depends on nothing else then).
//
// Entries are immutable once inserted and shared by pointer, so a hit costs a
// hash lookup and a copy of the flat DFA arrays. The cache holds at most
// `capacity` bytes (default 32 MiB); when an insertion would pass it, it is
// emptied first: the entries are rebuilt by the next few grammars that need them.
#ifndef XGRAM_RULE_DFA_CACHE_H_
#define XGRAM_RULE_DFA_CACHE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "grammar_ir.h"
#include "rule_dfa.h"

namespace xgram {
namespace rule_dfa {

// A rule that the keyed body calls: a rule of the grammar, or the helper rule
// holding the body of a counted repetition (identified by that body).
struct Callee {
  bool helper;
  int32_t id;  // RuleId, or the ExprId of the repeated expression
  bool operator==(const Callee& o) const { return helper == o.helper && id == o.id; }
};

// The key of a rule body and the callees its ordinals stand for, in order.
struct RuleKey {
  std::string bytes;
  std::vector<Callee> callees;
};

// A call symbol of a cached DFA: the callee by ordinal, with its counts.
struct LocalCall {
  int32_t callee;
  int32_t min;
  int32_t max;
};

struct CachedRule {
  RuleDfa determinized;          // call symbols index `calls`
  std::vector<LocalCall> calls;
  RuleDfa minimized;             // valid when has_minimized
  bool has_minimized = false;    // (built where every callee was productive)
  int64_t nfa_states = 0;        // budget charged to build it, charged again on a hit
  int64_t dfa_states = 0;
  size_t MemoryBytes() const;
};

// Writes the key of `body` into `key`, or returns false for a body that is not
// cached (a difference operand that refers to a recursive rule or to one with a
// lookahead: building it raises the error). `unrolls(repeat)` tells whether the
// builder unrolls a repetition outside difference operands (inside, it always
// does); it must be the builder's own test, since it decides the NFA.
template <typename Unrolls>
class RuleKeyWriter {
 public:
  RuleKeyWriter(const Grammar& grammar, Unrolls unrolls) : grammar_(grammar), unrolls_(unrolls) {}

  bool Write(ExprId body, RuleKey* key) {
    key_ = key;
    key_->bytes.clear();
    key_->callees.clear();
    inline_stack_.clear();
    return Expr(body, /*inlined=*/false);
  }

 private:
  void Put(char tag) { key_->bytes.push_back(tag); }
  void PutInt(int32_t value) { key_->bytes.append(reinterpret_cast<const char*>(&value), sizeof value); }
  void PutCallee(Callee callee) {
    std::vector<Callee>& callees = key_->callees;
    size_t ordinal = 0;
    while (ordinal < callees.size() && !(callees[ordinal] == callee)) ++ordinal;
    if (ordinal == callees.size()) callees.push_back(callee);
    PutInt(static_cast<int32_t>(ordinal));
  }

  bool Expr(ExprId id, bool inlined) {
    const xgram::Expr& e = grammar_.exprs[id];
    switch (e.kind) {
      case ExprKind::kEmpty:
        Put('E');
        return true;
      case ExprKind::kBytes:
        Put('B');
        PutInt(static_cast<int32_t>(e.bytes.size()));
        key_->bytes.append(e.bytes);
        return true;
      case ExprKind::kCharClass:
        Put('C');
        PutInt(static_cast<int32_t>(e.ranges.size()));
        for (const CodepointRange& r : e.ranges) {
          PutInt(static_cast<int32_t>(r.lo));
          PutInt(static_cast<int32_t>(r.hi));
        }
        return true;
      case ExprKind::kSequence:
      case ExprKind::kChoice:
        Put(e.kind == ExprKind::kSequence ? 'S' : 'A');
        PutInt(static_cast<int32_t>(e.children.size()));
        for (ExprId c : e.children) {
          if (!Expr(c, inlined)) return false;
        }
        return true;
      case ExprKind::kRepeat: {
        bool unrolled = inlined || unrolls_(id);
        Put(unrolled ? 'U' : 'H');
        PutInt(e.min);
        PutInt(e.max);
        if (unrolled) return Expr(e.children[0], inlined);
        // A counted call: the helper's body is its own rule, keyed on its own.
        const xgram::Expr& child = grammar_.exprs[e.children[0]];
        PutCallee(child.kind == ExprKind::kRuleRef ? Callee{false, child.rule} : Callee{true, e.children[0]});
        return true;
      }
      case ExprKind::kRuleRef: {
        if (!inlined) {
          Put('R');
          PutCallee({false, e.rule});
          return true;
        }
        const Rule& rule = grammar_.rules[e.rule];
        for (RuleId open : inline_stack_) {
          if (open == e.rule) return false;
        }
        if (rule.lookahead != kNone) return false;
        Put('I');
        inline_stack_.push_back(e.rule);
        bool ok = Expr(rule.body, true);
        inline_stack_.pop_back();
        return ok;
      }
      case ExprKind::kDifference:
        Put('D');
        return Expr(e.children[0], true) && Expr(e.children[1], true);
    }
    return false;
  }

  const Grammar& grammar_;
  Unrolls unrolls_;
  RuleKey* key_ = nullptr;
  std::vector<RuleId> inline_stack_;
};

class RuleCache {
 public:
  static RuleCache& Global();

  // The entry for `key`, or null.
  std::shared_ptr<const CachedRule> Find(const std::string& key);
  void Insert(std::string key, std::shared_ptr<const CachedRule> rule);

  void Clear();
  void SetCapacity(size_t bytes);  // 0 turns the cache off (and empties it)
  size_t capacity() const;
  struct Stats {
    size_t entries, bytes, hits, misses;
  };
  Stats stats() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const CachedRule>> entries_;
  size_t bytes_ = 0;
  size_t capacity_ = size_t{32} << 20;
  size_t hits_ = 0;
  size_t misses_ = 0;
};

}  // namespace rule_dfa
}  // namespace xgram

#endif  // XGRAM_RULE_DFA_CACHE_H_
