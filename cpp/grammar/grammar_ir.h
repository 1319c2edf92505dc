// Grammar IR: the one representation every front-end lowers to.
//
// A grammar is a list of rules; each rule has a body expression and an optional
// lookahead expression. Expressions live in one arena (`Grammar::exprs`) and refer
// to each other by index, so passes can share sub-trees and copy grammars cheaply.
//
// The IR is deliberately close to EBNF: literals are byte strings (already UTF-8
// encoded), character classes are sorted code-point ranges, and repetition keeps
// its bounds ({m,n}) instead of being desugared. Lowering to automata happens in
// automaton_builder.cc; the IR stays printable (grammar_printer.cc) and therefore
// round-trips through EBNF text.
#ifndef XGRAM_GRAMMAR_IR_H_
#define XGRAM_GRAMMAR_IR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "small_vector.h"

namespace xgram {

using ExprId = int32_t;
using RuleId = int32_t;
constexpr int32_t kNone = -1;
constexpr int32_t kUnbounded = -1;  // upper bound of `x*`, `x+`, `x{m,}`
constexpr uint32_t kMaxCodepoint = 0x10FFFF;

struct CodepointRange {
  uint32_t lo;
  uint32_t hi;  // inclusive
  bool operator==(const CodepointRange& o) const { return lo == o.lo && hi == o.hi; }
};

enum class ExprKind : uint8_t {
  kEmpty,      // matches ""
  kBytes,      // a literal: `bytes` (UTF-8 of the source string)
  kCharClass,  // one code point in `ranges` (already complemented if written [^...])
  kSequence,   // children in order
  kChoice,     // one of children
  kRepeat,     // children[0] repeated min..max times (max == kUnbounded for no limit)
  kRuleRef,    // rule `rule`
  // children[0] minus children[1]: the strings the first matches and the second
  // does not (W3C EBNF's `A - B`). Both operands must be regular; the automaton
  // builder compiles each to a DFA and splices in their product.
  kDifference,
  // The strings both children match (`a & b`), regular operands as for a
  // difference: the builder splices in the product of their DFAs.
  kIntersection,
};

// Most sequences and choices have few members and most classes few ranges, so
// these lists keep that many in place (small_vector.h).
using ExprList = SmallVector<ExprId, 4>;
using RangeList = SmallVector<CodepointRange, 2>;

struct Expr {
  ExprKind kind = ExprKind::kEmpty;
  std::string bytes;
  RangeList ranges;  // sorted, disjoint, non-adjacent
  ExprList children;
  int32_t min = 0;
  int32_t max = 0;
  RuleId rule = kNone;
  // Where the expression came from in the source text (byte offset), for errors.
  int32_t source_offset = -1;
};

struct Rule {
  std::string name;
  ExprId body = kNone;
  ExprId lookahead = kNone;  // `(= ...)` after the body, or kNone
  int32_t source_offset = -1;
};

class Grammar {
 public:
  std::vector<Rule> rules;
  std::vector<Expr> exprs;
  RuleId root = kNone;

  // Bytes the IR holds: rules, expressions and what they own.
  size_t MemoryBytes() const;

  ExprId AddEmpty();
  ExprId AddBytes(std::string bytes);
  ExprId AddCharClass(std::vector<CodepointRange> ranges);
  ExprId AddSequence(std::vector<ExprId> children);
  ExprId AddChoice(std::vector<ExprId> children);
  ExprId AddRepeat(ExprId child, int32_t min, int32_t max);
  ExprId AddRuleRef(RuleId rule);
  ExprId AddDifference(ExprId minuend, ExprId subtrahend);
  ExprId AddIntersection(ExprId a, ExprId b);
  RuleId AddRule(std::string name, ExprId body, ExprId lookahead = kNone);

  // A name not used by any rule, derived from `base`.
  std::string FreshRuleName(const std::string& base) const;

 private:
  Expr& NewExpr(ExprKind kind);
  ExprId LastId() const { return static_cast<ExprId>(exprs.size() - 1); }
};

// Sorts, merges and bounds a list of code-point ranges.
std::vector<CodepointRange> NormalizeRanges(std::vector<CodepointRange> ranges);
// The same, reusing the vector's storage (for callers with a scratch buffer).
void NormalizeRangesInPlace(std::vector<CodepointRange>* ranges);
// The complement of normalized ranges within [0, kMaxCodepoint].
std::vector<CodepointRange> ComplementRanges(const std::vector<CodepointRange>& ranges);

}  // namespace xgram

#endif  // XGRAM_GRAMMAR_IR_H_
