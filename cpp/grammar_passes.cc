// Normalisation passes over the grammar IR (see grammar_passes.h).
//
// Every pass copies the grammar into a fresh arena through an `ExprCopier` that
// hash-conses expressions: structurally identical sub-expressions get one id, so
// a DAG stays a DAG through inlining and the passes stay linear in its size.
#include "grammar_passes.h"

#include <algorithm>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "utf8.h"

namespace xgram {
namespace {

// Builds expressions in `dst`, reusing an existing id for an identical expression
// (same kind, payload and children; the source offset is not compared). The
// table is open-addressing over expression ids, so a lookup hashes the
// expression in place and allocates nothing.
class InterningBuilder {
 public:
  // Expressions already in `dst` are not reused.
  explicit InterningBuilder(Grammar* dst) : dst_(dst), table_(256, kNone) {}

  ExprId Add(Expr e) {
    uint64_t h = Hash(e);
    for (size_t slot = h & (table_.size() - 1); table_[slot] != kNone; slot = (slot + 1) & (table_.size() - 1)) {
      if (hashes_[table_[slot]] == h && SameExpr(dst_->exprs[table_[slot]], e)) return table_[slot];
    }
    ExprId id = dst_->AddExpr(std::move(e));
    Insert(id, h);
    return id;
  }

  Grammar* grammar() { return dst_; }

 private:
  static uint64_t Hash(const Expr& e) {
    uint64_t h = 0xcbf29ce484222325ull ^ static_cast<uint64_t>(e.kind);
    auto put = [&h](uint64_t v) {
      h = (h ^ v) * 0x100000001b3ull;
      h ^= h >> 31;
    };
    switch (e.kind) {
      case ExprKind::kBytes:
        for (char c : e.bytes) put(static_cast<uint8_t>(c));
        put(e.bytes.size());
        break;
      case ExprKind::kCharClass:
        for (const CodepointRange& r : e.ranges) put((uint64_t{r.lo} << 32) | r.hi);
        break;
      case ExprKind::kRuleRef: put(static_cast<uint32_t>(e.rule)); break;
      case ExprKind::kRepeat:
        put(static_cast<uint32_t>(e.min)), put(static_cast<uint32_t>(e.max)), put(static_cast<uint32_t>(e.children[0]));
        break;
      case ExprKind::kSequence:
      case ExprKind::kChoice:
        for (ExprId c : e.children) put(static_cast<uint32_t>(c));
        put(e.children.size());
        break;
      case ExprKind::kEmpty: break;
    }
    return h;
  }

  static bool SameExpr(const Expr& a, const Expr& b) {
    if (a.kind != b.kind) return false;
    switch (a.kind) {
      case ExprKind::kBytes: return a.bytes == b.bytes;
      case ExprKind::kCharClass:
        return a.ranges.size() == b.ranges.size() &&
               std::equal(a.ranges.begin(), a.ranges.end(), b.ranges.begin(),
                          [](const CodepointRange& x, const CodepointRange& y) { return x.lo == y.lo && x.hi == y.hi; });
      case ExprKind::kRuleRef: return a.rule == b.rule;
      case ExprKind::kRepeat: return a.min == b.min && a.max == b.max && a.children[0] == b.children[0];
      case ExprKind::kSequence:
      case ExprKind::kChoice: return a.children == b.children;
      case ExprKind::kEmpty: return true;
    }
    return false;
  }

  void Insert(ExprId id, uint64_t h) {
    if (hashes_.size() <= static_cast<size_t>(id)) hashes_.resize(id + 1);
    hashes_[id] = h;
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

bool IsSingleCodepoint(const Expr& e, uint32_t* cp) {
  if (e.kind != ExprKind::kBytes) return false;
  int len = DecodeUtf8(e.bytes, 0, cp);
  return len > 0 && static_cast<size_t>(len) == e.bytes.size();
}

// Simplifies and copies expressions of `src` into `dst` (rule ids unchanged).
// `rule_ref` lets a pass replace references (inlining); by default they are kept.
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
  ExprId Empty() { return out_->Add(Expr{}); }

  ExprId Bytes(std::string bytes) {
    if (bytes.empty()) return Empty();
    Expr e;
    e.kind = ExprKind::kBytes;
    e.bytes = std::move(bytes);
    return out_->Add(std::move(e));
  }

  ExprId CopyUncached(const Expr& e) {
    switch (e.kind) {
      case ExprKind::kEmpty: return Empty();
      case ExprKind::kBytes: return Bytes(e.bytes);
      case ExprKind::kCharClass: {
        if (e.ranges.size() == 1 && e.ranges[0].lo == e.ranges[0].hi &&
            !(e.ranges[0].lo >= 0xD800 && e.ranges[0].lo <= 0xDFFF)) {
          std::string bytes;
          AppendUtf8(e.ranges[0].lo, &bytes);
          return Bytes(std::move(bytes));
        }
        Expr c;
        c.kind = ExprKind::kCharClass;
        c.ranges = e.ranges;
        return out_->Add(std::move(c));
      }
      case ExprKind::kRuleRef: {
        if (rule_ref_) return rule_ref_(e.rule);
        Expr r;
        r.kind = ExprKind::kRuleRef;
        r.rule = e.rule;
        return out_->Add(std::move(r));
      }
      case ExprKind::kSequence: return Sequence(e.children);
      case ExprKind::kChoice: return Choice(e.children);
      case ExprKind::kRepeat: return Repeat(Copy(e.children[0]), e.min, e.max);
    }
    return Empty();
  }

  // Appends `c` to a sequence being flattened: nested sequences are spliced in,
  // empties dropped and adjacent byte strings fused.
  void PushSequenceItem(ExprId c, std::vector<ExprId>* flat) {
    const Expr& ce = Get(c);
    if (ce.kind == ExprKind::kEmpty) return;
    if (ce.kind == ExprKind::kSequence) {
      // Children of an interned sequence are already flat; by index, since
      // Add() may reallocate the expressions.
      for (size_t i = 0; i < Get(c).children.size(); ++i) PushSequenceItem(Get(c).children[i], flat);
      return;
    }
    if (ce.kind == ExprKind::kBytes && !flat->empty() && Get(flat->back()).kind == ExprKind::kBytes) {
      std::string fused = Get(flat->back()).bytes + ce.bytes;
      flat->back() = Bytes(std::move(fused));
      return;
    }
    flat->push_back(c);
  }

  // Appends `c` to a choice being flattened (nested choices are spliced in).
  void PushChoiceItem(ExprId c, std::vector<ExprId>* flat) {
    const Expr& ce = Get(c);
    if (ce.kind == ExprKind::kChoice) {
      for (size_t i = 0; i < Get(c).children.size(); ++i) PushChoiceItem(Get(c).children[i], flat);
      return;
    }
    flat->push_back(c);
  }

  // Drops repeated alternatives, keeping first occurrences in order.
  static void DropRepeatedAlternatives(std::vector<ExprId>* flat) {
    if (flat->size() <= 32) {
      size_t kept = 0;
      for (size_t i = 0; i < flat->size(); ++i) {
        ExprId c = (*flat)[i];
        if (std::find(flat->begin(), flat->begin() + kept, c) == flat->begin() + kept) (*flat)[kept++] = c;
      }
      flat->resize(kept);
      return;
    }
    std::unordered_set<ExprId> seen;
    flat->erase(std::remove_if(flat->begin(), flat->end(), [&](ExprId c) { return !seen.insert(c).second; }),
                flat->end());
  }

  ExprId Sequence(const std::vector<ExprId>& children) {
    std::vector<ExprId> flat;
    flat.reserve(children.size());
    for (ExprId c : children) PushSequenceItem(Copy(c), &flat);
    if (flat.empty()) return Empty();
    if (flat.size() == 1) return flat[0];
    Expr e;
    e.kind = ExprKind::kSequence;
    e.children = std::move(flat);
    return out_->Add(std::move(e));
  }

  ExprId Choice(const std::vector<ExprId>& children) {
    std::vector<ExprId> flat;
    flat.reserve(children.size());
    for (ExprId c : children) PushChoiceItem(Copy(c), &flat);
    DropRepeatedAlternatives(&flat);
    // Alternatives that are single code points merge into one character class.
    std::vector<CodepointRange> ranges;
    std::vector<ExprId> rest;
    size_t merged = 0;
    for (ExprId c : flat) {
      const Expr& ce = Get(c);
      uint32_t cp;
      if (ce.kind == ExprKind::kCharClass) {
        ranges.insert(ranges.end(), ce.ranges.begin(), ce.ranges.end());
        ++merged;
      } else if (IsSingleCodepoint(ce, &cp)) {
        ranges.push_back({cp, cp});
        ++merged;
      } else {
        rest.push_back(c);
      }
    }
    if (merged >= 2) {
      Expr cls;
      cls.kind = ExprKind::kCharClass;
      cls.ranges = NormalizeRanges(std::move(ranges));
      ExprId cls_id = out_->Add(std::move(cls));
      // Keep the class where its first member was, so the order stays familiar.
      std::vector<ExprId> ordered;
      bool placed = false;
      for (ExprId c : flat) {
        const Expr& ce = Get(c);
        uint32_t cp;
        if (ce.kind == ExprKind::kCharClass || IsSingleCodepoint(ce, &cp)) {
          if (!placed) ordered.push_back(cls_id), placed = true;
        } else {
          ordered.push_back(c);
        }
      }
      flat = std::move(ordered);
    }
    if (flat.size() == 1) return flat[0];
    Expr e;
    e.kind = ExprKind::kChoice;
    e.children = std::move(flat);
    return out_->Add(std::move(e));
  }

  ExprId Repeat(ExprId child, int32_t min, int32_t max) {
    const Expr& ce = Get(child);
    if (ce.kind == ExprKind::kEmpty || max == 0) return Empty();
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
    Expr e;
    e.kind = ExprKind::kRepeat;
    e.children = {child};
    e.min = min;
    e.max = max;
    return out_->Add(std::move(e));
  }

  const Grammar& src_;
  InterningBuilder* out_;
  std::function<ExprId(RuleId)> rule_ref_;
  std::vector<ExprId> memo_;  // by source expression id
};

void CollectRuleRefs(const Grammar& g, ExprId root, std::vector<RuleId>* refs,
                     std::vector<bool>* visited) {
  std::vector<ExprId> stack{root};
  while (!stack.empty()) {
    ExprId id = stack.back();
    stack.pop_back();
    if ((*visited)[id]) continue;
    (*visited)[id] = true;
    const Expr& e = g.exprs[id];
    if (e.kind == ExprKind::kRuleRef) refs->push_back(e.rule);
    for (ExprId c : e.children) stack.push_back(c);
  }
}

// Rule -> rules its body references (lookaheads excluded).
std::vector<std::vector<RuleId>> ReferenceGraph(const Grammar& g) {
  std::vector<std::vector<RuleId>> graph(g.rules.size());
  for (size_t r = 0; r < g.rules.size(); ++r) {
    std::vector<bool> visited(g.exprs.size(), false);
    CollectRuleRefs(g, g.rules[r].body, &graph[r], &visited);
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
  InterningBuilder builder(&out);
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

std::vector<bool> FindRecursiveRules(const Grammar& g) {
  auto graph = ReferenceGraph(g);
  std::vector<bool> recursive(g.rules.size(), false);
  for (const auto& component : StronglyConnectedComponents(graph)) {
    bool cyclic = component.size() > 1 ||
                  std::binary_search(graph[component[0]].begin(), graph[component[0]].end(),
                                     component[0]);
    if (cyclic) {
      for (RuleId r : component) recursive[r] = true;
    }
  }
  return recursive;
}

Grammar SimplifyGrammar(const Grammar& g) {
  return CopyRulesWith(g, [&](Simplifier& s, RuleId r) { return s.Copy(g.rules[r].body); });
}

Grammar InlineRules(const Grammar& g) {
  std::vector<bool> recursive = FindRecursiveRules(g);
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

  // The most references any one rule body makes to each rule.
  std::vector<int> max_refs_per_caller(g.rules.size(), 0);
  for (const Rule& caller : g.rules) {
    std::unordered_map<RuleId, int> refs;
    std::vector<ExprId> stack{caller.body};
    std::unordered_set<ExprId> seen;
    while (!stack.empty()) {
      ExprId e = stack.back();
      stack.pop_back();
      if (e == kNone || !seen.insert(e).second) continue;
      const Expr& x = g.exprs[e];
      if (e == caller.body && x.kind == ExprKind::kRuleRef) ++refs[x.rule];
      // Count reference edges: interned bodies share one node per callee.
      for (ExprId c : x.children) {
        if (g.exprs[c].kind == ExprKind::kRuleRef) ++refs[g.exprs[c].rule];
        stack.push_back(c);
      }
    }
    for (const auto& [callee, count] : refs) {
      max_refs_per_caller[callee] = std::max(max_refs_per_caller[callee], count);
    }
  }

  Grammar out;
  out.exprs.reserve(g.exprs.size());  // a copy is rarely larger; saves moving Exprs
  InterningBuilder builder(&out);
  for (const Rule& r : g.rules) out.AddRule(r.name, kNone);
  out.root = g.root;
  for (size_t i = 0; i < g.rules.size(); ++i) out.rules[i].source_offset = g.rules[i].source_offset;

  std::vector<bool> inlinable(g.rules.size(), false);
  std::vector<ExprId> new_body(g.rules.size(), kNone);
  std::vector<int64_t> size_memo;  // by expression id of `out`, -1 when unknown
  std::vector<int64_t> depth_memo;
  auto rule_ref = [&](RuleId r) -> ExprId {
    if (inlinable[r] && new_body[r] != kNone) return new_body[r];
    Expr e;
    e.kind = ExprKind::kRuleRef;
    e.rule = r;
    return builder.Add(std::move(e));
  };
  Simplifier simplifier(g, &builder, rule_ref);
  // Callees first, so an inlined body is already fully expanded.
  for (const auto& component : StronglyConnectedComponents(ReferenceGraph(g))) {
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

Grammar RemoveUnreachableRules(const Grammar& g) {
  std::vector<bool> reachable(g.rules.size(), false);
  std::vector<RuleId> work{g.root};
  reachable[g.root] = true;
  std::vector<bool> visited(g.exprs.size(), false);
  while (!work.empty()) {
    RuleId r = work.back();
    work.pop_back();
    std::vector<RuleId> refs;
    CollectRuleRefs(g, g.rules[r].body, &refs, &visited);
    if (g.rules[r].lookahead != kNone) CollectRuleRefs(g, g.rules[r].lookahead, &refs, &visited);
    for (RuleId x : refs) {
      if (!reachable[x]) reachable[x] = true, work.push_back(x);
    }
  }
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
  InterningBuilder builder(&out);
  auto rule_ref = [&](RuleId r) {
    Expr e;
    e.kind = ExprKind::kRuleRef;
    e.rule = new_id[r];
    return builder.Add(std::move(e));
  };
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
  return RemoveUnreachableRules(InlineRules(SimplifyGrammar(g)));
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
    auto rule_ref = [&](RuleId r) {
      Expr e;
      e.kind = ExprKind::kRuleRef;
      e.rule = new_id[r];
      return builder.Add(std::move(e));
    };
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
