// Normalisation passes over the grammar IR (see grammar_passes.h).
//
// Every pass copies the grammar into a fresh arena through an `ExprCopier` that
// hash-conses expressions: structurally identical sub-expressions get one id, so
// a DAG stays a DAG through inlining and the passes stay linear in its size.
#include "grammar_passes.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <string_view>

#include "utf8.h"

namespace xgram {
namespace {

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

  // A sequence or choice over `n` children.
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
bool IsLiteralClass(const Expr& e) {
  return e.kind == ExprKind::kCharClass && e.ranges.size() == 1 && e.ranges[0].lo == e.ranges[0].hi &&
         !(e.ranges[0].lo >= 0xD800 && e.ranges[0].lo <= 0xDFFF);
}

bool IsSingleCodepoint(const Expr& e, uint32_t* cp) {
  if (e.kind != ExprKind::kBytes) return false;
  int len = DecodeUtf8(e.bytes, 0, cp);
  return len > 0 && static_cast<size_t>(len) == e.bytes.size();
}

// Simplifies and copies expressions of `src` into `dst` (rule ids unchanged).
// `rule_ref` lets a pass replace references (inlining); by default they are kept.
//
// Sequences and choices under construction live on one shared stack (`items_`):
// a call's items sit above its caller's, and every call pops back to where it
// started, so flattening allocates nothing per expression.
class Simplifier {
 public:
  Simplifier(const Grammar& src, InterningBuilder* out,
             std::function<ExprId(RuleId)> rule_ref = nullptr)
      : src_(src), out_(out), rule_ref_(std::move(rule_ref)), memo_(src.exprs.size(), kNone) {}

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
      case ExprKind::kRuleRef: {
        if (rule_ref_) return rule_ref_(e.rule);
        return out_->AddRuleRef(e.rule);
      }
      case ExprKind::kSequence: return Sequence(e.children);
      case ExprKind::kChoice: return Choice(e.children);
      case ExprKind::kRepeat: return Repeat(Copy(e.children[0]), e.min, e.max);
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

  ExprId Sequence(const std::vector<ExprId>& children) {
    size_t base = items_.size();
    for (ExprId c : children) PushSequenceItem(Copy(c), base);
    return Finish(ExprKind::kSequence, base);
  }

  ExprId Choice(const std::vector<ExprId>& children) {
    size_t base = items_.size();
    for (ExprId c : children) PushChoiceItem(Copy(c));
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
    }
    return out_->AddRepeat(child, min, max);
  }

  const Grammar& src_;
  InterningBuilder* out_;
  std::function<ExprId(RuleId)> rule_ref_;
  std::vector<ExprId> memo_;  // by source expression id
  std::vector<ExprId> items_;
  std::string scratch_bytes_;
  std::vector<CodepointRange> scratch_ranges_;
  std::vector<uint32_t> seen_;  // by output expression id: stamp_ when seen
  uint32_t stamp_ = 0;
};

// Appends the rules referenced under `root` to `refs`, skipping expressions whose
// `visited` entry already equals `stamp` (and marking the rest); `stack` is scratch.
void CollectRuleRefs(const Grammar& g, ExprId root, std::vector<RuleId>* refs,
                     std::vector<uint32_t>* visited, uint32_t stamp, std::vector<ExprId>* stack) {
  stack->assign(1, root);
  while (!stack->empty()) {
    ExprId id = stack->back();
    stack->pop_back();
    if ((*visited)[id] == stamp) continue;
    (*visited)[id] = stamp;
    const Expr& e = g.exprs[id];
    if (e.kind == ExprKind::kRuleRef) refs->push_back(e.rule);
    stack->insert(stack->end(), e.children.begin(), e.children.end());
  }
}

// Rule -> rules its body references (lookaheads excluded).
std::vector<std::vector<RuleId>> ReferenceGraph(const Grammar& g) {
  std::vector<std::vector<RuleId>> graph(g.rules.size());
  // One stamp per rule, so the visited marks need not be cleared between rules.
  std::vector<uint32_t> visited(g.exprs.size(), 0);
  std::vector<ExprId> stack;
  for (size_t r = 0; r < g.rules.size(); ++r) {
    CollectRuleRefs(g, g.rules[r].body, &graph[r], &visited, static_cast<uint32_t>(r + 1), &stack);
    std::sort(graph[r].begin(), graph[r].end());
    graph[r].erase(std::unique(graph[r].begin(), graph[r].end()), graph[r].end());
  }
  return graph;
}

// Tarjan's strongly connected components, iteratively; components come out with
// callees before callers.
std::vector<std::vector<RuleId>> StronglyConnectedComponents(
    const std::vector<std::vector<RuleId>>& graph) {
  int n = static_cast<int>(graph.size());
  std::vector<int> index(n, -1), low(n, 0);
  std::vector<bool> on_stack(n, false);
  std::vector<RuleId> stack;
  std::vector<std::vector<RuleId>> components;
  int counter = 0;
  for (int start = 0; start < n; ++start) {
    if (index[start] != -1) continue;
    std::vector<std::pair<int, size_t>> call{{start, 0}};
    index[start] = low[start] = counter++;
    stack.push_back(start);
    on_stack[start] = true;
    while (!call.empty()) {
      auto& [v, next] = call.back();
      if (next < graph[v].size()) {
        int w = graph[v][next++];
        if (index[w] == -1) {
          index[w] = low[w] = counter++;
          stack.push_back(w);
          on_stack[w] = true;
          call.push_back({w, 0});
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
      } else {
        int finished = v;
        call.pop_back();
        if (!call.empty()) low[call.back().first] = std::min(low[call.back().first], low[finished]);
        if (low[finished] == index[finished]) {
          std::vector<RuleId> component;
          RuleId w;
          do {
            w = stack.back();
            stack.pop_back();
            on_stack[w] = false;
            component.push_back(w);
          } while (w != finished);
          components.push_back(std::move(component));
        }
      }
    }
  }
  return components;
}

// Number of nodes in the expression *tree* (shared sub-expressions counted once
// per use), saturating at `cap`.
int64_t TreeSize(const Grammar& g, ExprId id, std::vector<int64_t>* memo, int64_t cap) {
  if (memo->size() <= static_cast<size_t>(id)) memo->resize(g.exprs.size(), -1);
  if ((*memo)[id] >= 0) return (*memo)[id];
  int64_t size = 1;
  for (ExprId c : g.exprs[id].children) size = std::min(cap, size + TreeSize(g, c, memo, cap));
  (*memo)[id] = size;
  return size;
}

// Expression depth of the tree (longest path to a leaf), saturating at `cap`.
int64_t TreeDepth(const Grammar& g, ExprId id, std::vector<int64_t>* memo, int64_t cap) {
  if (memo->size() <= static_cast<size_t>(id)) memo->resize(g.exprs.size(), -1);
  if ((*memo)[id] >= 0) return (*memo)[id];
  int64_t depth = 1;
  for (ExprId c : g.exprs[id].children) depth = std::min(cap, std::max(depth, 1 + TreeDepth(g, c, memo, cap)));
  (*memo)[id] = depth;
  return depth;
}

// Inlining never builds expressions deeper than this (the passes recurse on depth).
constexpr int64_t kInlineMaxDepth = 200;
constexpr int64_t kInlineSmallRuleSize = 16;
constexpr int64_t kInlineMaxExpandedSize = 4000;
// A small rule referenced many times from one caller (a trie of names whose every
// branch ends in the same tail) stays a call: copying it into each branch would
// multiply the caller's automaton for nothing.
constexpr int64_t kInlineMaxCopiesSize = 64;

Grammar CopyRulesWith(const Grammar& g, const std::function<ExprId(Simplifier&, RuleId)>& body_of) {
  Grammar out;
  out.exprs.reserve(g.exprs.size());  // a copy is rarely larger; saves moving Exprs
  InterningBuilder builder(&out, g.exprs.size());
  for (const Rule& r : g.rules) out.AddRule(r.name, kNone);
  out.root = g.root;
  for (size_t i = 0; i < g.rules.size(); ++i) {
    out.rules[i].source_offset = g.rules[i].source_offset;
  }
  Simplifier simplifier(g, &builder);
  for (size_t i = 0; i < g.rules.size(); ++i) {
    out.rules[i].body = body_of(simplifier, static_cast<RuleId>(i));
    if (g.rules[i].lookahead != kNone) out.rules[i].lookahead = simplifier.Copy(g.rules[i].lookahead);
  }
  return out;
}

}  // namespace

namespace {

std::vector<bool> RecursiveRules(const std::vector<std::vector<RuleId>>& graph,
                                 const std::vector<std::vector<RuleId>>& components) {
  std::vector<bool> recursive(graph.size(), false);
  for (const auto& component : components) {
    bool cyclic = component.size() > 1 ||
                  std::binary_search(graph[component[0]].begin(), graph[component[0]].end(),
                                     component[0]);
    if (cyclic) {
      for (RuleId r : component) recursive[r] = true;
    }
  }
  return recursive;
}

}  // namespace

std::vector<bool> FindRecursiveRules(const Grammar& g) {
  auto graph = ReferenceGraph(g);
  return RecursiveRules(graph, StronglyConnectedComponents(graph));
}

Grammar SimplifyGrammar(const Grammar& g) {
  return CopyRulesWith(g, [&](Simplifier& s, RuleId r) { return s.Copy(g.rules[r].body); });
}

Grammar InlineRules(const Grammar& g) {
  std::vector<std::vector<RuleId>> graph = ReferenceGraph(g);
  std::vector<std::vector<RuleId>> components = StronglyConnectedComponents(graph);
  std::vector<bool> recursive = RecursiveRules(graph, components);
  // How many expression slots reference each rule.
  std::vector<int> uses(g.rules.size(), 0);
  for (const Expr& e : g.exprs) {
    for (ExprId c : e.children) {
      if (g.exprs[c].kind == ExprKind::kRuleRef) ++uses[g.exprs[c].rule];
    }
  }
  for (const Rule& r : g.rules) {
    if (g.exprs[r.body].kind == ExprKind::kRuleRef) ++uses[g.exprs[r.body].rule];
    if (r.lookahead != kNone && g.exprs[r.lookahead].kind == ExprKind::kRuleRef) {
      ++uses[g.exprs[r.lookahead].rule];
    }
  }

  // The most references any one rule body makes to each rule. Visited marks and
  // counts live in flat arrays reused across callers (stamped with the caller).
  std::vector<int> max_refs_per_caller(g.rules.size(), 0);
  {
    std::vector<int> refs(g.rules.size(), 0);
    std::vector<RuleId> counted;  // rules with a nonzero entry in `refs`
    std::vector<uint32_t> seen(g.exprs.size(), 0);
    std::vector<ExprId> stack;
    auto count = [&](RuleId r) {
      if (refs[r]++ == 0) counted.push_back(r);
    };
    for (size_t caller = 0; caller < g.rules.size(); ++caller) {
      ExprId body = g.rules[caller].body;
      uint32_t stamp = static_cast<uint32_t>(caller + 1);
      stack.assign(1, body);
      while (!stack.empty()) {
        ExprId e = stack.back();
        stack.pop_back();
        if (e == kNone || seen[e] == stamp) continue;
        seen[e] = stamp;
        const Expr& x = g.exprs[e];
        if (e == body && x.kind == ExprKind::kRuleRef) count(x.rule);
        // Count reference edges: interned bodies share one node per callee.
        for (ExprId c : x.children) {
          if (g.exprs[c].kind == ExprKind::kRuleRef) count(g.exprs[c].rule);
          stack.push_back(c);
        }
      }
      for (RuleId callee : counted) {
        max_refs_per_caller[callee] = std::max(max_refs_per_caller[callee], refs[callee]);
        refs[callee] = 0;
      }
      counted.clear();
    }
  }

  Grammar out;
  out.exprs.reserve(g.exprs.size());  // a copy is rarely larger; saves moving Exprs
  InterningBuilder builder(&out, g.exprs.size());
  for (const Rule& r : g.rules) out.AddRule(r.name, kNone);
  out.root = g.root;
  for (size_t i = 0; i < g.rules.size(); ++i) out.rules[i].source_offset = g.rules[i].source_offset;

  std::vector<bool> inlinable(g.rules.size(), false);
  std::vector<ExprId> new_body(g.rules.size(), kNone);
  std::vector<int64_t> size_memo;  // by expression id of `out`, -1 when unknown
  std::vector<int64_t> depth_memo;
  auto rule_ref = [&](RuleId r) -> ExprId {
    if (inlinable[r] && new_body[r] != kNone) return new_body[r];
    return builder.AddRuleRef(r);
  };
  Simplifier simplifier(g, &builder, rule_ref);
  // Callees first, so an inlined body is already fully expanded.
  for (const auto& component : components) {
    for (RuleId r : component) {
      new_body[r] = simplifier.Copy(g.rules[r].body);
      int64_t size = TreeSize(out, new_body[r], &size_memo, kInlineMaxExpandedSize + 1);
      int64_t depth = TreeDepth(out, new_body[r], &depth_memo, kInlineMaxDepth + 1);
      inlinable[r] = !recursive[r] && r != g.root && g.rules[r].lookahead == kNone &&
                     size <= kInlineMaxExpandedSize && depth <= kInlineMaxDepth &&
                     ((size <= kInlineSmallRuleSize &&
                       size * max_refs_per_caller[r] <= kInlineMaxCopiesSize) ||
                      uses[r] <= 1);
    }
  }
  for (size_t i = 0; i < g.rules.size(); ++i) {
    out.rules[i].body = new_body[i];
    if (g.rules[i].lookahead != kNone) out.rules[i].lookahead = simplifier.Copy(g.rules[i].lookahead);
  }
  return out;
}

namespace {

// Marks the rules reachable from the root (through bodies and lookaheads) and,
// in `visited` (1 when reached), the expressions under them.
std::vector<bool> ReachableRules(const Grammar& g, std::vector<uint32_t>* visited) {
  std::vector<bool> reachable(g.rules.size(), false);
  std::vector<RuleId> work{g.root};
  reachable[g.root] = true;
  visited->assign(g.exprs.size(), 0);
  std::vector<ExprId> stack;
  std::vector<RuleId> refs;
  while (!work.empty()) {
    RuleId r = work.back();
    work.pop_back();
    refs.clear();
    CollectRuleRefs(g, g.rules[r].body, &refs, visited, 1, &stack);
    if (g.rules[r].lookahead != kNone) CollectRuleRefs(g, g.rules[r].lookahead, &refs, visited, 1, &stack);
    for (RuleId x : refs) {
      if (!reachable[x]) reachable[x] = true, work.push_back(x);
    }
  }
  return reachable;
}

// RemoveUnreachableRules for a grammar the Simplifier built (InlineRules'
// output), without simplifying it again. The Simplifier maps its own output to
// itself except for a one-code-point class, which a choice can produce by merging
// alternatives that denote the same code point (an empty class brought next to
// "a" by inlining; no front-end makes empty classes today) but which a second run
// turns into a literal (and then fuses):
//   - a sequence it builds is flat, has no empties and no adjacent literals;
//   - a choice has no nested choice, no repeated alternative, and at most one
//     alternative that is a class or a one-code-point literal (it merges two);
//   - a repetition was built only after every folding rule had declined;
//   - expressions are interned, so distinct ones stay distinct once the rules
//     are renumbered.
// So when no such class is reachable, a second run would add exactly one
// expression per reachable one, children first, in the order it visits them
// (rules in order, body then lookahead, children left to right), with the same
// payload; this copies them in that order, so the result is identical. Otherwise
// it falls back to the full pass.
Grammar CompactReachable(Grammar&& g) {
  std::vector<uint32_t> visited;
  std::vector<bool> reachable = ReachableRules(g, &visited);
  for (size_t i = 0; i < g.exprs.size(); ++i) {
    if (visited[i] != 0 && IsLiteralClass(g.exprs[i])) return RemoveUnreachableRules(g);
  }
  std::vector<RuleId> new_id(g.rules.size(), kNone);
  Grammar out;
  for (size_t i = 0; i < g.rules.size(); ++i) {
    if (!reachable[i]) continue;
    new_id[i] = static_cast<RuleId>(out.rules.size());
    Rule& r = out.rules.emplace_back();
    r.name = std::move(g.rules[i].name);
    r.source_offset = g.rules[i].source_offset;
  }
  out.root = new_id[g.root];
  size_t num_reachable = 0;
  for (uint32_t v : visited) num_reachable += v;
  out.exprs.reserve(num_reachable);
  // Post-order over the DAG with an explicit stack: (expression, next child).
  std::vector<ExprId> new_expr(g.exprs.size(), kNone);
  std::vector<std::pair<ExprId, size_t>> stack;
  auto copy = [&](ExprId root) {
    if (new_expr[root] != kNone) return new_expr[root];
    stack.assign(1, {root, 0});
    while (!stack.empty()) {
      auto& [id, next] = stack.back();
      Expr& e = g.exprs[id];
      if (next < e.children.size()) {
        ExprId c = e.children[next++];
        if (new_expr[c] == kNone) stack.push_back({c, 0});  // invalidates id/next
        continue;
      }
      for (ExprId& c : e.children) c = new_expr[c];
      if (e.kind == ExprKind::kRuleRef) e.rule = new_id[e.rule];
      new_expr[id] = static_cast<ExprId>(out.exprs.size());
      out.exprs.push_back(std::move(e));
      stack.pop_back();
    }
    return new_expr[root];
  };
  for (size_t i = 0; i < g.rules.size(); ++i) {
    if (!reachable[i]) continue;
    out.rules[new_id[i]].body = copy(g.rules[i].body);
    if (g.rules[i].lookahead != kNone) out.rules[new_id[i]].lookahead = copy(g.rules[i].lookahead);
  }
  return out;
}

}  // namespace

Grammar RemoveUnreachableRules(const Grammar& g) {
  std::vector<uint32_t> visited;
  std::vector<bool> reachable = ReachableRules(g, &visited);
  std::vector<RuleId> new_id(g.rules.size(), kNone);
  Grammar out;
  out.exprs.reserve(g.exprs.size());  // a copy is rarely larger; saves moving Exprs
  for (size_t i = 0; i < g.rules.size(); ++i) {
    if (reachable[i]) new_id[i] = out.AddRule(g.rules[i].name, kNone);
  }
  for (size_t i = 0; i < g.rules.size(); ++i) {
    if (reachable[i]) out.rules[new_id[i]].source_offset = g.rules[i].source_offset;
  }
  out.root = new_id[g.root];
  InterningBuilder builder(&out, g.exprs.size());
  auto rule_ref = [&](RuleId r) { return builder.AddRuleRef(new_id[r]); };
  Simplifier simplifier(g, &builder, rule_ref);
  for (size_t i = 0; i < g.rules.size(); ++i) {
    if (!reachable[i]) continue;
    out.rules[new_id[i]].body = simplifier.Copy(g.rules[i].body);
    if (g.rules[i].lookahead != kNone) {
      out.rules[new_id[i]].lookahead = simplifier.Copy(g.rules[i].lookahead);
    }
  }
  return out;
}

Grammar NormalizeGrammar(const Grammar& g) {
  return CompactReachable(InlineRules(SimplifyGrammar(g)));
}

namespace {

// Copies all rules of each grammar into one, renaming on clashes; returns the
// new ids of the input roots. Rule 0 of the result is a placeholder named "root".
Grammar MergeGrammars(const std::vector<const Grammar*>& grammars, std::vector<RuleId>* roots) {
  Grammar out;
  out.AddRule("root", kNone);
  out.root = 0;
  InterningBuilder builder(&out);
  for (const Grammar* g : grammars) {
    std::vector<RuleId> new_id(g->rules.size());
    for (size_t i = 0; i < g->rules.size(); ++i) {
      new_id[i] = out.AddRule(out.FreshRuleName(g->rules[i].name), kNone);
    }
    auto rule_ref = [&](RuleId r) { return builder.AddRuleRef(new_id[r]); };
    Simplifier simplifier(*g, &builder, rule_ref);
    for (size_t i = 0; i < g->rules.size(); ++i) {
      out.rules[new_id[i]].body = simplifier.Copy(g->rules[i].body);
      if (g->rules[i].lookahead != kNone) {
        out.rules[new_id[i]].lookahead = simplifier.Copy(g->rules[i].lookahead);
      }
    }
    roots->push_back(new_id[g->root]);
  }
  return out;
}

Grammar CombineGrammars(const std::vector<const Grammar*>& grammars, ExprKind kind) {
  std::vector<RuleId> roots;
  Grammar out = MergeGrammars(grammars, &roots);
  std::vector<ExprId> refs;
  for (RuleId r : roots) refs.push_back(out.AddRuleRef(r));
  if (refs.empty()) {
    out.rules[0].body = out.AddEmpty();
  } else if (kind == ExprKind::kChoice) {
    out.rules[0].body = out.AddChoice(std::move(refs));
  } else {
    out.rules[0].body = out.AddSequence(std::move(refs));
  }
  return NormalizeGrammar(out);
}

}  // namespace

Grammar UnionGrammars(const std::vector<const Grammar*>& grammars) {
  return CombineGrammars(grammars, ExprKind::kChoice);
}

Grammar ConcatGrammars(const std::vector<const Grammar*>& grammars) {
  return CombineGrammars(grammars, ExprKind::kSequence);
}

}  // namespace xgram
