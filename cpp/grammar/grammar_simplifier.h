// Expression interning and the simplifying copy, shared by the normalisation
// passes (grammar_passes.cc). Internal to them: not part of the IR's interface.
//
// Every pass copies the grammar into a fresh arena through a Simplifier, which
// hash-conses expressions through an InterningBuilder: structurally identical
// sub-expressions get one id, so a DAG stays a DAG through inlining and the passes
// stay linear in its size.
#ifndef XGRAM_GRAMMAR_SIMPLIFIER_H_
#define XGRAM_GRAMMAR_SIMPLIFIER_H_

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "compile_control.h"
#include "grammar_ir.h"
#include "utf8.h"

namespace xgram {
namespace simplifier_internal {

// The fields of an expression that interning compares, pointing into storage
// owned elsewhere, so that a lookup which finds an existing expression builds
// nothing.
struct ExprKey {
  ExprKind kind = ExprKind::kEmpty;
  std::string_view bytes;
  const CodepointRange* ranges = nullptr;
  size_t num_ranges = 0;
  const ExprId* children = nullptr;
  size_t num_children = 0;
  int32_t min = 0;
  int32_t max = 0;
  RuleId rule = kNone;
};

// Builds expressions in `dst`, reusing an existing id for an identical expression
// (same kind, payload and children; the source offset is not compared). The
// table is open-addressing over expression ids, so a lookup hashes the key in
// place and allocates nothing; an Expr is materialised only for a new entry.
class InterningBuilder {
 public:
  // Expressions already in `dst` are not reused. `expected` (how many
  // expressions the caller expects to add) sizes the table up front.
  explicit InterningBuilder(Grammar* dst, size_t expected = 0) : dst_(dst) {
    size_t size = 256;
    while (size < 2 * expected) size *= 2;
    table_.assign(size, kNone);
    hashes_.reserve(dst->exprs.size() + expected);
  }

  // `key` must not point into dst's expressions: a new one may move them.
  ExprId Add(const ExprKey& key) {
    uint64_t h = Hash(key);
    for (size_t slot = h & (table_.size() - 1); table_[slot] != kNone; slot = (slot + 1) & (table_.size() - 1)) {
      if (hashes_[table_[slot]] == h && SameExpr(dst_->exprs[table_[slot]], key)) return table_[slot];
    }
    // Built in place: most new expressions have one non-empty payload field.
    ExprId id = static_cast<ExprId>(dst_->exprs.size());
    Expr& e = dst_->exprs.emplace_back();
    e.kind = key.kind;
    if (!key.bytes.empty()) e.bytes.assign(key.bytes.data(), key.bytes.size());
    if (key.num_ranges != 0) e.ranges.assign(key.ranges, key.ranges + key.num_ranges);
    if (key.num_children != 0) e.children.assign(key.children, key.children + key.num_children);
    e.min = key.min;
    e.max = key.max;
    e.rule = key.rule;
    Insert(id, h);
    return id;
  }

  ExprId AddEmpty() { return Add(ExprKey{}); }

  ExprId AddBytes(std::string_view bytes) {
    if (bytes.empty()) return AddEmpty();
    ExprKey k;
    k.kind = ExprKind::kBytes;
    k.bytes = bytes;
    return Add(k);
  }

  ExprId AddCharClass(const CodepointRange* ranges, size_t n) {
    ExprKey k;
    k.kind = ExprKind::kCharClass;
    k.ranges = ranges;
    k.num_ranges = n;
    return Add(k);
  }

  ExprId AddRuleRef(RuleId rule) {
    ExprKey k;
    k.kind = ExprKind::kRuleRef;
    k.rule = rule;
    return Add(k);
  }

  // A sequence, choice or difference over `n` children.
  ExprId AddNode(ExprKind kind, const ExprId* children, size_t n) {
    ExprKey k;
    k.kind = kind;
    k.children = children;
    k.num_children = n;
    return Add(k);
  }

  ExprId AddRepeat(ExprId child, int32_t min, int32_t max) {
    ExprKey k;
    k.kind = ExprKind::kRepeat;
    k.children = &child;
    k.num_children = 1;
    k.min = min;
    k.max = max;
    return Add(k);
  }

  Grammar* grammar() { return dst_; }

 private:
  static uint64_t Hash(const ExprKey& e) {
    uint64_t h = 0xcbf29ce484222325ull ^ static_cast<uint64_t>(e.kind);
    auto put = [&h](uint64_t v) {
      h = (h ^ v) * 0x100000001b3ull;
      h ^= h >> 31;
    };
    switch (e.kind) {
      case ExprKind::kBytes: {
        // Eight bytes per step; the length is mixed in, so zero padding is safe.
        size_t n = e.bytes.size();
        for (size_t i = 0; i < n; i += 8) {
          uint64_t word = 0;
          std::memcpy(&word, e.bytes.data() + i, std::min<size_t>(8, n - i));
          put(word);
        }
        put(n);
        break;
      }
      case ExprKind::kCharClass:
        for (size_t i = 0; i < e.num_ranges; ++i) put((uint64_t{e.ranges[i].lo} << 32) | e.ranges[i].hi);
        break;
      case ExprKind::kRuleRef: put(static_cast<uint32_t>(e.rule)); break;
      case ExprKind::kRepeat:
        put(static_cast<uint32_t>(e.min)), put(static_cast<uint32_t>(e.max)), put(static_cast<uint32_t>(e.children[0]));
        break;
      case ExprKind::kSequence:
      case ExprKind::kChoice:
      case ExprKind::kDifference:
      case ExprKind::kIntersection:
        for (size_t i = 0; i < e.num_children; ++i) put(static_cast<uint32_t>(e.children[i]));
        put(e.num_children);
        break;
      case ExprKind::kEmpty: break;
    }
    return h;
  }

  static bool SameExpr(const Expr& a, const ExprKey& b) {
    if (a.kind != b.kind) return false;
    switch (a.kind) {
      case ExprKind::kBytes: return std::string_view(a.bytes) == b.bytes;
      case ExprKind::kCharClass:
        return a.ranges.size() == b.num_ranges && std::equal(a.ranges.begin(), a.ranges.end(), b.ranges);
      case ExprKind::kRuleRef: return a.rule == b.rule;
      case ExprKind::kRepeat: return a.min == b.min && a.max == b.max && a.children[0] == b.children[0];
      case ExprKind::kSequence:
      case ExprKind::kChoice:
      case ExprKind::kDifference:
      case ExprKind::kIntersection:
        return a.children.size() == b.num_children && std::equal(a.children.begin(), a.children.end(), b.children);
      case ExprKind::kEmpty: return true;
    }
    return false;
  }

  void Insert(ExprId id, uint64_t h) {
    // Ids are handed out in order, so this is almost always an append.
    if (hashes_.size() < static_cast<size_t>(id)) hashes_.resize(id, 0);
    if (hashes_.size() == static_cast<size_t>(id)) {
      hashes_.push_back(h);
    } else {
      hashes_[id] = h;
    }
    if (2 * (++count_) > table_.size()) {  // keep the load under one half
      std::vector<ExprId> old;
      old.swap(table_);
      table_.assign(old.size() * 2, kNone);
      for (ExprId x : old) {
        if (x != kNone) Place(x);
      }
    }
    Place(id);
  }

  void Place(ExprId id) {
    size_t slot = hashes_[id] & (table_.size() - 1);
    while (table_[slot] != kNone) slot = (slot + 1) & (table_.size() - 1);
    table_[slot] = id;
  }

  Grammar* dst_;
  std::vector<ExprId> table_;
  std::vector<uint64_t> hashes_;  // by expression id
  size_t count_ = 0;
};

// A class of one code point, which the simplifier turns into a literal (a lone
// surrogate has no UTF-8 form and stays a class).
inline bool IsLiteralClass(const Expr& e) {
  return e.kind == ExprKind::kCharClass && e.ranges.size() == 1 && e.ranges[0].lo == e.ranges[0].hi &&
         !(e.ranges[0].lo >= 0xD800 && e.ranges[0].lo <= 0xDFFF);
}

inline bool IsSingleCodepoint(const Expr& e, uint32_t* cp) {
  if (e.kind != ExprKind::kBytes) return false;
  int len = DecodeUtf8(e.bytes, 0, cp);
  return len > 0 && static_cast<size_t>(len) == e.bytes.size();
}

// The default rule-reference callback of a Simplifier: references are kept.
struct KeepRuleRefs {
  InterningBuilder* out;
  ExprId operator()(RuleId r) const { return out->AddRuleRef(r); }
};

// Simplifies and copies expressions of `src` into `out`. Each rule reference
// becomes `rule_ref(rule)` (an expression of `out`), which lets a pass renumber
// rules or inline them; a template parameter rather than a std::function because
// it runs once per reference in the hottest loop of normalisation.
//
// Sequences and choices under construction live on one shared stack (`items_`):
// a call's items sit above its caller's, and every call pops back to where it
// started, so flattening allocates nothing per expression.
template <typename RuleRefFn>
class Simplifier {
 public:
  Simplifier(const Grammar& src, InterningBuilder* out, RuleRefFn rule_ref)
      : src_(src), out_(out), rule_ref_(rule_ref), memo_(src.exprs.size(), kNone) {}

  ExprId Copy(ExprId id) {
    if (memo_[id] != kNone) return memo_[id];
    ExprId result = CopyUncached(src_.exprs[id]);
    memo_[id] = result;
    return result;
  }

  const Expr& Get(ExprId id) const { return out_->grammar()->exprs[id]; }

 private:
  ExprId CopyUncached(const Expr& e) {
    switch (e.kind) {
      case ExprKind::kEmpty: return out_->AddEmpty();
      case ExprKind::kBytes: return out_->AddBytes(e.bytes);
      case ExprKind::kCharClass: {
        if (IsLiteralClass(e)) {
          scratch_bytes_.clear();
          AppendUtf8(e.ranges[0].lo, &scratch_bytes_);
          return out_->AddBytes(scratch_bytes_);
        }
        return out_->AddCharClass(e.ranges.data(), e.ranges.size());
      }
      case ExprKind::kRuleRef: return rule_ref_(e.rule);
      case ExprKind::kSequence: return Sequence(e.children);
      case ExprKind::kChoice: return Choice(e.children);
      case ExprKind::kRepeat: return Repeat(Copy(e.children[0]), e.min, e.max);
      case ExprKind::kDifference:
      case ExprKind::kIntersection: {
        ExprId operands[2] = {Copy(e.children[0]), Copy(e.children[1])};
        return out_->AddNode(e.kind, operands, 2);
      }
    }
    return out_->AddEmpty();
  }

  // Appends `c` to the sequence being flattened at items_[base..]: nested
  // sequences are spliced in, empties dropped and adjacent byte strings fused.
  void PushSequenceItem(ExprId c, size_t base) {
    const Expr& ce = Get(c);
    if (ce.kind == ExprKind::kEmpty) return;
    if (ce.kind == ExprKind::kSequence) {
      // Children of an interned sequence are already flat; by index, since
      // Add() may reallocate the expressions.
      for (size_t i = 0; i < Get(c).children.size(); ++i) PushSequenceItem(Get(c).children[i], base);
      return;
    }
    if (ce.kind == ExprKind::kBytes && items_.size() > base && Get(items_.back()).kind == ExprKind::kBytes) {
      scratch_bytes_.assign(Get(items_.back()).bytes);
      scratch_bytes_ += ce.bytes;
      items_.back() = out_->AddBytes(scratch_bytes_);
      return;
    }
    items_.push_back(c);
  }

  // Appends `c` to the choice being flattened (nested choices are spliced in).
  void PushChoiceItem(ExprId c) {
    const Expr& ce = Get(c);
    if (ce.kind == ExprKind::kChoice) {
      for (size_t i = 0; i < Get(c).children.size(); ++i) PushChoiceItem(Get(c).children[i]);
      return;
    }
    items_.push_back(c);
  }

  // Drops repeated alternatives in items_[base..], keeping first occurrences in order.
  void DropRepeatedAlternatives(size_t base) {
    size_t n = items_.size() - base;
    ExprId* flat = items_.data() + base;
    size_t kept = 0;
    if (n <= 32) {
      for (size_t i = 0; i < n; ++i) {
        ExprId c = flat[i];
        if (std::find(flat, flat + kept, c) == flat + kept) flat[kept++] = c;
      }
    } else {
      // Mark ids with a per-call stamp instead of building a hash set.
      ++stamp_;
      size_t num_exprs = out_->grammar()->exprs.size();
      if (seen_.size() < num_exprs) seen_.resize(2 * num_exprs, 0);
      for (size_t i = 0; i < n; ++i) {
        ExprId c = flat[i];
        if (seen_[c] != stamp_) seen_[c] = stamp_, flat[kept++] = c;
      }
    }
    items_.resize(base + kept);
  }

  // Builds the sequence or choice at items_[base..] and pops it.
  ExprId Finish(ExprKind kind, size_t base) {
    size_t n = items_.size() - base;
    ExprId id;
    if (n == 0) {
      id = out_->AddEmpty();
    } else if (n == 1) {
      id = items_[base];
    } else {
      id = out_->AddNode(kind, items_.data() + base, n);
    }
    items_.resize(base);
    return id;
  }

  ExprId Sequence(const ExprList& children) {
    size_t base = items_.size();
    for (ExprId c : children) PushSequenceItem(Copy(c), base);
    return Finish(ExprKind::kSequence, base);
  }

  ExprId Choice(const ExprList& children) {
    size_t base = items_.size();
    for (ExprId c : children) {
      PollCompileControl();  // a 10^6-way choice is one node
      PushChoiceItem(Copy(c));
    }
    DropRepeatedAlternatives(base);
    // Alternatives that are single code points merge into one character class.
    scratch_ranges_.clear();
    size_t merged = 0;
    for (size_t i = base; i < items_.size(); ++i) {
      const Expr& ce = Get(items_[i]);
      uint32_t cp;
      if (ce.kind == ExprKind::kCharClass) {
        scratch_ranges_.insert(scratch_ranges_.end(), ce.ranges.begin(), ce.ranges.end());
        ++merged;
      } else if (IsSingleCodepoint(ce, &cp)) {
        scratch_ranges_.push_back({cp, cp});
        ++merged;
      }
    }
    if (merged >= 2) {
      NormalizeRangesInPlace(&scratch_ranges_);
      ExprId cls_id = out_->AddCharClass(scratch_ranges_.data(), scratch_ranges_.size());
      // Keep the class where its first member was, so the order stays familiar.
      size_t kept = base;
      bool placed = false;
      for (size_t i = base; i < items_.size(); ++i) {
        ExprId c = items_[i];
        const Expr& ce = Get(c);
        uint32_t cp;
        if (ce.kind == ExprKind::kCharClass || IsSingleCodepoint(ce, &cp)) {
          if (!placed) items_[kept++] = cls_id, placed = true;
        } else {
          items_[kept++] = c;
        }
      }
      items_.resize(kept);
    }
    return Finish(ExprKind::kChoice, base);
  }

  ExprId Repeat(ExprId child, int32_t min, int32_t max) {
    const Expr& ce = Get(child);
    if (ce.kind == ExprKind::kEmpty || max == 0) return out_->AddEmpty();
    if (min == 1 && max == 1) return child;
    if (ce.kind == ExprKind::kRepeat) {
      // (x*)* (x+)* (x?)* (x*)+ (x*)? all equal x*; (x+)+ equals x+; (x?)? equals x?.
      int32_t imin = ce.min, imax = ce.max;
      bool inner_star_like = imin <= 1 && imax == kUnbounded;
      bool outer_star_like = min <= 1 && max == kUnbounded;
      if ((inner_star_like && (outer_star_like || (min == 0 && max == 1))) ||
          (outer_star_like && imin == 0 && imax == 1)) {
        int32_t new_min = (imin == 0 || min == 0) ? 0 : 1;
        return Repeat(ce.children[0], new_min, kUnbounded);
      }
      if (imin == 0 && imax == 1 && min == 0 && max == 1) return child;
      ExprId folded;
      if (FoldNestedCounts(ce, min, max, &folded)) return folded;
    }
    return out_->AddRepeat(child, min, max);
  }

  // (x{a,b}){c,d} is x{a*c, b*d} when every count in between is reachable:
  // k copies of x{a,b} make [k*a, k*b] copies of x, and the intervals for
  // consecutive k meet when k*(b-a) >= a-1, tightest at the smallest k (with
  // k = 0, the empty interval {0} meets [a, b] only if a <= 1). Folding matters
  // beyond size: the matcher keeps one count per counted call on each stack
  // edge, and nested counts multiply the edges (and the work) of every step.
  // Finite bounds only (the star-like cases are above), and products within the
  // parser's bound.
  bool FoldNestedCounts(const Expr& inner, int32_t min, int32_t max, ExprId* folded) {
    int64_t a = inner.min, b = inner.max, c = min, d = max;
    if (b == kUnbounded || d == kUnbounded || b * d > (int64_t{1} << 30)) return false;
    if (c < d) {
      bool meet = c == 0 ? a <= 1 && (b - a) >= a - 1 : c * (b - a) >= a - 1;
      if (!meet) return false;
    }
    *folded = Repeat(inner.children[0], static_cast<int32_t>(a * c), static_cast<int32_t>(b * d));
    return true;
  }

  const Grammar& src_;
  InterningBuilder* out_;
  RuleRefFn rule_ref_;
  std::vector<ExprId> memo_;  // by source expression id
  std::vector<ExprId> items_;
  std::string scratch_bytes_;
  std::vector<CodepointRange> scratch_ranges_;
  std::vector<uint32_t> seen_;  // by output expression id: stamp_ when seen
  uint32_t stamp_ = 0;
};

}  // namespace simplifier_internal
}  // namespace xgram

#endif  // XGRAM_GRAMMAR_SIMPLIFIER_H_
