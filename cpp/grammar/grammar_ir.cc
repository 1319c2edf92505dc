// Grammar IR construction helpers and code-point range algebra.
#include "grammar_ir.h"

#include <algorithm>
#include <unordered_set>

namespace xgram {

// The helpers build each expression in place in the arena: a temporary Expr
// would be moved twice on its way in.
Expr& Grammar::NewExpr(ExprKind kind) {
  Expr& e = exprs.emplace_back();
  e.kind = kind;
  return e;
}

ExprId Grammar::AddEmpty() {
  NewExpr(ExprKind::kEmpty);
  return LastId();
}

ExprId Grammar::AddBytes(std::string bytes) {
  if (bytes.empty()) return AddEmpty();
  NewExpr(ExprKind::kBytes).bytes = std::move(bytes);
  return LastId();
}

ExprId Grammar::AddCharClass(std::vector<CodepointRange> ranges) {
  NewExpr(ExprKind::kCharClass).ranges = NormalizeRanges(std::move(ranges));
  return LastId();
}

ExprId Grammar::AddSequence(std::vector<ExprId> children) {
  NewExpr(ExprKind::kSequence).children = std::move(children);
  return LastId();
}

ExprId Grammar::AddChoice(std::vector<ExprId> children) {
  NewExpr(ExprKind::kChoice).children = std::move(children);
  return LastId();
}

ExprId Grammar::AddRepeat(ExprId child, int32_t min, int32_t max) {
  Expr& e = NewExpr(ExprKind::kRepeat);
  e.children = {child};
  e.min = min;
  e.max = max;
  return LastId();
}

ExprId Grammar::AddRuleRef(RuleId rule) {
  NewExpr(ExprKind::kRuleRef).rule = rule;
  return LastId();
}

ExprId Grammar::AddDifference(ExprId minuend, ExprId subtrahend) {
  NewExpr(ExprKind::kDifference).children = {minuend, subtrahend};
  return LastId();
}

ExprId Grammar::AddIntersection(ExprId a, ExprId b) {
  NewExpr(ExprKind::kIntersection).children = {a, b};
  return LastId();
}

RuleId Grammar::AddRule(std::string name, ExprId body, ExprId lookahead) {
  Rule r;
  r.name = std::move(name);
  r.body = body;
  r.lookahead = lookahead;
  rules.push_back(std::move(r));
  return static_cast<RuleId>(rules.size() - 1);
}

std::string Grammar::FreshRuleName(const std::string& base) const {
  std::unordered_set<std::string> used;
  for (const Rule& r : rules) used.insert(r.name);
  if (!used.count(base)) return base;
  for (int i = 1;; ++i) {
    std::string candidate = base + "_" + std::to_string(i);
    if (!used.count(candidate)) return candidate;
  }
}

void NormalizeRangesInPlace(std::vector<CodepointRange>* ranges) {
  for (CodepointRange& r : *ranges) {
    if (r.hi > kMaxCodepoint) r.hi = kMaxCodepoint;
  }
  ranges->erase(std::remove_if(ranges->begin(), ranges->end(),
                               [](const CodepointRange& r) { return r.lo > r.hi; }),
                ranges->end());
  std::sort(ranges->begin(), ranges->end(),
            [](const CodepointRange& a, const CodepointRange& b) { return a.lo < b.lo; });
  // Merging only ever shortens the prefix written so far, so it can run in place.
  size_t kept = 0;
  for (size_t i = 0; i < ranges->size(); ++i) {
    CodepointRange r = (*ranges)[i];
    if (kept > 0 && r.lo <= (*ranges)[kept - 1].hi + 1) {
      (*ranges)[kept - 1].hi = std::max((*ranges)[kept - 1].hi, r.hi);
    } else {
      (*ranges)[kept++] = r;
    }
  }
  ranges->resize(kept);
}

std::vector<CodepointRange> NormalizeRanges(std::vector<CodepointRange> ranges) {
  NormalizeRangesInPlace(&ranges);
  return ranges;
}

std::vector<CodepointRange> ComplementRanges(const std::vector<CodepointRange>& ranges) {
  std::vector<CodepointRange> out;
  uint32_t next = 0;
  for (const CodepointRange& r : ranges) {
    if (r.lo > next) out.push_back({next, r.lo - 1});
    next = r.hi + 1;
  }
  if (next <= kMaxCodepoint) out.push_back({next, kMaxCodepoint});
  return out;
}

size_t Grammar::MemoryBytes() const {
  size_t bytes = sizeof(*this) + rules.capacity() * sizeof(Rule) + exprs.capacity() * sizeof(Expr);
  for (const Rule& r : rules) bytes += r.name.capacity();
  for (const Expr& e : exprs) bytes += e.bytes.capacity() + e.ranges.HeapBytes() + e.children.HeapBytes();
  return bytes;
}

}  // namespace xgram
