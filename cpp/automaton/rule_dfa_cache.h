// A process-wide cache of rule automata, keyed by what a rule's body says.
//
// Grammars made from JSON schemas share most of their rules: every object that
// allows extra keys carries the same json_value, json_string and ws rules, and
// every `"type": "integer"` the same number rules under other names. When
// schemas are compiled in turn, most of the rules one emits repeat a rule of an
// earlier schema up to the names of the rules they call, so many rules find
// their DFA here instead of building it again.
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
// hash lookup; the builder reads the entry's DFA in place. The cache holds at most
// `capacity` bytes (default 32 MiB); when an insertion would pass it, it is
// emptied first: the entries are rebuilt by the next few grammars that need them.
#ifndef XGRAM_RULE_DFA_CACHE_H_
#define XGRAM_RULE_DFA_CACHE_H_

#include <cstdint>
#include <cstring>
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
//
// The body is a DAG (the normalisation passes intern expressions), and a rule
// with inlined members repeats sub-expressions many times (`ws "," ws`, a key
// that must differ from the declared names). The second and later visits of an
// expression (in the same inlining mode) within one key are written as a
// reference to the ordinal of its first visit, so a key is as long as the DAG,
// not the tree. Interning gives a tree one DAG, so equal bodies still get equal
// keys, and the references can be expanded back, so unequal ones do not. A
// reference skips the walk that checks the inlined rules for recursion; the
// first visit made that check, and it fails for every visit or none (a rule on
// the inline stack at a later visit reaches the expression, which would then
// reach the rule again from its first visit too). Meeting an expression inside
// its own first visit is recursion too, and fails the key as before.
template <typename Unrolls>
class RuleKeyWriter {
 public:
  RuleKeyWriter(const Grammar& grammar, Unrolls unrolls)
      : grammar_(grammar), unrolls_(unrolls), visit_stamp_(2 * grammar.exprs.size(), 0),
        visit_ordinal_(2 * grammar.exprs.size(), 0), visit_open_(2 * grammar.exprs.size(), 0) {}

  bool Write(ExprId body, RuleKey* key) {
    key_ = key;
    buffer_.clear();
    key_->callees.clear();
    inline_stack_.clear();
    ++stamp_;
    next_ordinal_ = 0;
    bool ok = Expr(body, /*inlined=*/false);
    if (ok) key_->bytes.assign(buffer_.data(), buffer_.size());
    return ok;
  }

 private:
  void Put(char tag) { buffer_.push_back(tag); }
  void PutInt(int32_t value) {
    char bytes[sizeof value];
    std::memcpy(bytes, &value, sizeof value);
    buffer_.insert(buffer_.end(), bytes, bytes + sizeof value);
  }
  void PutCallee(Callee callee) {
    std::vector<Callee>& callees = key_->callees;
    size_t ordinal = 0;
    while (ordinal < callees.size() && !(callees[ordinal] == callee)) ++ordinal;
    if (ordinal == callees.size()) callees.push_back(callee);
    PutInt(static_cast<int32_t>(ordinal));
  }

  bool Expr(ExprId id, bool inlined) {
    const xgram::Expr& e = grammar_.exprs[id];
    if (e.kind == ExprKind::kEmpty) {
      Put('E');
      return true;
    }
    if (e.kind == ExprKind::kRuleRef && !inlined) {
      Put('R');
      PutCallee({false, e.rule});
      return true;
    }
    size_t slot = 2 * static_cast<size_t>(id) + (inlined ? 1 : 0);
    if (visit_stamp_[slot] == stamp_) {
      // Met again inside its own first visit: the walk went round a recursive
      // inlined rule, which the inline stack check below reports on the first
      // visit only when the cycle passes the rule reference first.
      if (visit_open_[slot]) return false;
      Put('P');
      PutInt(visit_ordinal_[slot]);
      return true;
    }
    visit_stamp_[slot] = stamp_;
    visit_ordinal_[slot] = next_ordinal_++;
    visit_open_[slot] = 1;
    bool ok = Node(id, e, inlined);
    visit_open_[slot] = 0;
    return ok;
  }

  bool Node(ExprId id, const xgram::Expr& e, bool inlined) {
    switch (e.kind) {
      case ExprKind::kEmpty:
        return true;
      case ExprKind::kBytes:
        Put('B');
        PutInt(static_cast<int32_t>(e.bytes.size()));
        buffer_.insert(buffer_.end(), e.bytes.begin(), e.bytes.end());
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
      case ExprKind::kRuleRef: {  // inlined (a call is written above)
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
      case ExprKind::kIntersection:
        Put(e.kind == ExprKind::kDifference ? 'D' : '&');
        return Expr(e.children[0], true) && Expr(e.children[1], true);
    }
    return false;
  }

  const Grammar& grammar_;
  Unrolls unrolls_;
  RuleKey* key_ = nullptr;
  std::vector<char> buffer_;  // the key being written (reused across rules)
  std::vector<RuleId> inline_stack_;
  // Per (expression, inlined): the key whose walk visited it last, its ordinal
  // there, and whether that visit is still being written.
  std::vector<uint32_t> visit_stamp_;
  std::vector<int32_t> visit_ordinal_;
  std::vector<uint8_t> visit_open_;
  uint32_t stamp_ = 0;
  int32_t next_ordinal_ = 0;
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
