// Normalisation passes over the grammar IR (see grammar_passes.h).
//
// Every pass copies the grammar into a fresh arena through a Simplifier
// (grammar_simplifier.h), which hash-conses expressions; dropping unreachable
// rules after inlining is a plain copy (CompactReachable).
#include "grammar_passes.h"

#include <algorithm>
#include <utility>

#include "compile_control.h"
#include "grammar_simplifier.h"

namespace xgram {
namespace {

using simplifier_internal::InterningBuilder;
using simplifier_internal::IsLiteralClass;
using simplifier_internal::KeepRuleRefs;
using simplifier_internal::Simplifier;

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
  std::vector<RuleId> refs;  // collected here, so each rule's list is allocated once, to size
  for (size_t r = 0; r < g.rules.size(); ++r) {
    refs.clear();
    CollectRuleRefs(g, g.rules[r].body, &refs, &visited, static_cast<uint32_t>(r + 1), &stack);
    std::sort(refs.begin(), refs.end());
    refs.erase(std::unique(refs.begin(), refs.end()), refs.end());
    graph[r].assign(refs.begin(), refs.end());
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

// Size (number of nodes, shared sub-expressions counted once per use) and depth
// (longest path to a leaf) of an expression *tree*, each saturating at its cap.
struct TreeShape {
  int64_t size;
  int64_t depth;
};

// Shapes of the expressions of a growing interned arena, by id. Interning adds
// an expression after its children, so extending the table in id order finds
// every child measured: one loop, no recursion and no memo test per child.
class TreeShapes {
 public:
  TreeShapes(const Grammar* g, int64_t size_cap, int64_t depth_cap)
      : g_(g), size_cap_(size_cap), depth_cap_(depth_cap) {}

  TreeShape Of(ExprId id) {
    for (size_t i = shapes_.size(); i < g_->exprs.size(); ++i) {
      TreeShape shape{1, 1};
      for (ExprId c : g_->exprs[i].children) {
        shape.size = std::min(size_cap_, shape.size + shapes_[c].size);
        shape.depth = std::min(depth_cap_, std::max(shape.depth, 1 + shapes_[c].depth));
      }
      shapes_.push_back(shape);
    }
    return shapes_[id];
  }

 private:
  const Grammar* g_;
  int64_t size_cap_;
  int64_t depth_cap_;
  std::vector<TreeShape> shapes_;
};

// Inlining never builds expressions deeper than this (the passes recurse on depth).
constexpr int64_t kInlineMaxDepth = 200;
constexpr int64_t kInlineSmallRuleSize = 16;
constexpr int64_t kInlineMaxExpandedSize = 4000;
// A small rule referenced many times from one caller (a trie of names whose every
// branch ends in the same tail) stays a call: copying it into each branch would
// multiply the caller's automaton for nothing.
constexpr int64_t kInlineMaxCopiesSize = 64;
// A small rule called from many places stays a call too: each inlined copy is new
// automaton states whose token masks are computed apart, so the first fill at
// every call site pays again (an integer rule behind 25 properties, say).
constexpr int64_t kInlineMaxTotalCopiesSize = 128;

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

// A grammar with g's rules (names, root, source offsets) and no expressions
// yet, for a pass that rebuilds every body.
Grammar RulesWithoutBodies(const Grammar& g) {
  Grammar out;
  out.exprs.reserve(g.exprs.size());  // a copy is rarely larger; saves moving Exprs
  for (const Rule& r : g.rules) out.AddRule(r.name, kNone);
  out.root = g.root;
  for (size_t i = 0; i < g.rules.size(); ++i) out.rules[i].source_offset = g.rules[i].source_offset;
  return out;
}

}  // namespace

Grammar SimplifyGrammar(const Grammar& g) {
  Grammar out = RulesWithoutBodies(g);
  InterningBuilder builder(&out, g.exprs.size());
  Simplifier simplifier(g, &builder, KeepRuleRefs{&builder});
  for (size_t i = 0; i < g.rules.size(); ++i) {
    PollCompileControl();
    out.rules[i].body = simplifier.Copy(g.rules[i].body);
    if (g.rules[i].lookahead != kNone) out.rules[i].lookahead = simplifier.Copy(g.rules[i].lookahead);
  }
  return out;
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

  Grammar out = RulesWithoutBodies(g);
  InterningBuilder builder(&out, g.exprs.size());

  std::vector<bool> inlinable(g.rules.size(), false);
  std::vector<ExprId> new_body(g.rules.size(), kNone);
  TreeShapes shapes(&out, kInlineMaxExpandedSize + 1, kInlineMaxDepth + 1);
  auto rule_ref = [&](RuleId r) -> ExprId {
    if (inlinable[r] && new_body[r] != kNone) return new_body[r];
    return builder.AddRuleRef(r);
  };
  Simplifier simplifier(g, &builder, rule_ref);
  // Callees first, so an inlined body is already fully expanded.
  for (const auto& component : components) {
    for (RuleId r : component) {
      new_body[r] = simplifier.Copy(g.rules[r].body);
      TreeShape shape = shapes.Of(new_body[r]);
      int64_t size = shape.size, depth = shape.depth;
      inlinable[r] = !recursive[r] && r != g.root && g.rules[r].lookahead == kNone &&
                     size <= kInlineMaxExpandedSize && depth <= kInlineMaxDepth &&
                     ((size <= kInlineSmallRuleSize &&
                       size * max_refs_per_caller[r] <= kInlineMaxCopiesSize &&
                       size * uses[r] <= kInlineMaxTotalCopiesSize) ||
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
  Grammar simplified = SimplifyGrammar(g);
  CheckCompileControl();
  Grammar inlined = InlineRules(simplified);
  CheckCompileControl();
  return CompactReachable(std::move(inlined));
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
