// Pushdown matcher over a graph-structured stack (see pushdown_matcher.h).
#include "pushdown_matcher.h"

#include <algorithm>
#include <atomic>
#include <string>

#include "errors.h"

namespace xgram {

namespace {
// Far above what JSON-schema grammars need (benchmarks/README.md measures the margin).
std::atomic<int64_t> default_step_work_limit{1'000'000};
std::atomic<int64_t> default_fill_work_limit{10'000'000};

constexpr GuardId kDeadGuard = -1;
// Count of a counted call reached through a wildcard node: any count is possible,
// so the caller may both exit and call again.
constexpr int32_t kUnknownCount = INT32_MIN;
// Counts -1, -2, ... on edges made by the origin's escape: k = -1 - count
// iterations after the origin's own (see RepetitionNeeded).
bool IsRelativeCount(int32_t count) { return count < 0 && count != kUnknownCount; }
// call_edge of a parent edge that re-calls the origin's own rule (self_repeat);
// its return_state field holds that rule.
constexpr int32_t kSelfRepeatEdge = -2;
int32_t RelativeIterations(int32_t count) { return -1 - count; }
}  // namespace

int64_t DefaultStepWorkLimit() { return default_step_work_limit.load(std::memory_order_relaxed); }
void SetDefaultStepWorkLimit(int64_t limit) { default_step_work_limit.store(limit, std::memory_order_relaxed); }
int64_t DefaultFillWorkLimit() { return default_fill_work_limit.load(std::memory_order_relaxed); }
void SetDefaultFillWorkLimit(int64_t limit) { default_fill_work_limit.store(limit, std::memory_order_relaxed); }

PushdownMatcher::PushdownMatcher(AutomatonPtr automaton, int64_t max_rollback_steps)
    : automaton_(std::move(automaton)), a_(automaton_.get()), max_rollback_steps_(max_rollback_steps) {
  guard_sets_.emplace_back();  // guard 0: nothing pending
  guard_ids_[std::string()] = 0;
  Reset();
}

void PushdownMatcher::ResetCommon() {
  nodes_.clear();
  free_nodes_.clear();
  items_.clear();
  steps_.clear();
  wildcard_nodes_.clear();
  total_steps_ = 0;
  work_limited_ = false;  // Reset sets it after the first closure, which the grammar bounds
  BeginStep();
}

void PushdownMatcher::Reset() {
  ResetCommon();
  // The root node stands for "called from outside": completing it accepts.
  NodeId root = NewNode(a_->root, 0);
  nodes_[root].kind = NodeKind::kRoot;
  Ref(root);  // the root node outlives every step, even when no item keeps it
  AddItem(a_->rules[a_->root].start, root, 0);
  FinishStep();
  work_limited_ = true;
}

void PushdownMatcher::ResetForClassification(StateId state, bool escape, bool self_repeat) {
  ResetCommon();
  escape_ = escape;
  self_repeat_ = self_repeat && !escape;
  wildcard_nodes_.assign(a_->rules.size(), kNone);
  NodeId origin = NewNode(a_->state_rule[state], 0);
  nodes_[origin].kind = NodeKind::kOrigin;
  Ref(origin);
  AddItem(state, origin, 0);
  FinishStep();
}

void PushdownMatcher::ResetForContext(StateId state, const CallerFrame* callers, int32_t num_callers) {
  ResetCommon();
  escape_ = true;
  self_repeat_ = false;
  wildcard_nodes_.assign(a_->rules.size(), kNone);
  // Call k of the tree is tree_nodes[k]: 0 is the thread's own, edge k-1 makes k.
  std::vector<NodeId> tree_nodes;
  tree_nodes.reserve(num_callers + 1);
  auto make = [&](RuleId rule) {
    NodeId node = NewNode(rule, 0);
    nodes_[node].kind = NodeKind::kContext;  // until it gets a parent edge
    nodes_[node].step = -2;                  // made in earlier steps
    Ref(node);                               // lives as long as the classification
    tree_nodes.push_back(node);
  };
  make(a_->state_rule[state]);
  for (int32_t k = 0; k < num_callers; ++k) {
    const CallerFrame& frame = callers[k];
    make(a_->state_rule[frame.return_state]);
    Node& child = nodes_[tree_nodes[frame.from]];
    child.kind = NodeKind::kCall;
    child.parents.push_back(ParentEdge{frame.return_state, tree_nodes.back(), frame.call_edge, frame.count});
    Ref(tree_nodes.back());
  }
  AddItem(state, tree_nodes[0], 0);
  FinishStep();
}

int32_t PushdownMatcher::KnownCallers(NodeId node, int32_t max_depth, int32_t max_edges, int32_t max_bytes,
                                      CallerFrame* out) const {
  // A call with more parents than the edge budget is a leaf, and a thread whose
  // own call is a leaf has no known callers: its mask then needs Layer B over
  // every call site of its rule (costly for a rule called from thousands of
  // places, such as JSON whitespace). The budget is GrammarMatcher::kContextEdges.
  // Whether a call's parent edges can all be given (else it stays a leaf).
  auto expandable = [this, max_edges](const Node& n) {
    if (n.kind != NodeKind::kCall || n.parents.empty() || n.parents.size() > static_cast<size_t>(max_edges)) {
      return false;
    }
    for (const ParentEdge& e : n.parents) {
      if (e.call_edge < -1 || (e.call_edge >= 0 && e.count < 0)) return false;
    }
    return true;
  };
  if (!expandable(nodes_[node])) return 0;
  struct Pending {
    NodeId node;
    int32_t tree_index;
    int32_t depth;
  };
  Pending queue[64];
  int32_t head = 0, tail = 0, edges = 0;
  queue[tail++] = Pending{node, 0, 0};
  while (head < tail) {
    Pending p = queue[head++];
    const Node& n = nodes_[p.node];
    if (p.depth >= max_depth || !expandable(n)) continue;
    if (edges + static_cast<int32_t>(n.parents.size()) > max_edges || tail + n.parents.size() > 64) {
      if (p.tree_index == 0) return 0;
      continue;  // too wide: this call stays a leaf
    }
    for (const ParentEdge& e : n.parents) {
      int32_t count = 0;
      if (e.call_edge >= 0) {
        // Input of at most max_bytes bytes runs at most that many more
        // iterations (each reads a byte): counts past the minimum whose
        // maximum is further away than that behave alike.
        const CallEdge& call = a_->call_edges[e.call_edge];
        int32_t settled = std::max(call.min_calls - 1, 0);
        bool far = call.max_calls == kUnbounded || call.max_calls - e.count - 1 >= max_bytes;
        count = e.count >= settled && far ? settled : e.count;
      }
      out[edges] = CallerFrame{p.tree_index, e.return_state, e.call_edge, count};
      queue[tail++] = Pending{e.parent, edges + 1, p.depth + 1};
      ++edges;
    }
  }
  return edges;
}

NodeId PushdownMatcher::WildcardNode(RuleId rule) {
  if (wildcard_nodes_[rule] == kNone) {
    NodeId id = NewNode(rule, 0);
    nodes_[id].kind = NodeKind::kWildcard;
    nodes_[id].step = -2;  // never "created in this step": it stands for old callers
    Ref(id);               // lives as long as the classification
    wildcard_nodes_[rule] = id;
  }
  return wildcard_nodes_[rule];
}

void PushdownMatcher::Escape(RuleId rule, GuardId guard, bool from_origin) {
  guard |= kEscapedBit;
  for (int32_t i = a_->call_site_begin[rule]; i < a_->call_site_begin[rule + 1]; ++i) {
    int32_t e = a_->call_site_edges[i];
    const CallEdge& call = a_->call_edges[e];
    NodeId caller = WildcardNode(a_->state_rule[a_->call_edge_source[e]]);
    if (call.is_counted()) {
      // From the origin, count the iterations that follow it (relative count 0).
      int32_t count = from_origin ? -1 : kUnknownCount;
      ReturnTo(ParentEdge{call.target, caller, e, count}, guard, /*empty_iteration=*/false);
    } else {
      AddItem(call.target, caller, guard);
    }
  }
}

int32_t PushdownMatcher::RepetitionNeeded(bool include_completed) const {
  int32_t best = include_completed ? steps_.back().repetition_completed : kNoRepetition;
  for (const Item* it = CurrentItemsBegin(); it != CurrentItemsEnd(); ++it) {
    const Node& node = nodes_[it->node];
    if (node.kind != NodeKind::kCall || node.parents.empty()) continue;
    // A thread inside a re-call of the origin's repetition (its node's callers
    // are all relative-count edges of that repetition).
    int32_t k = INT32_MAX;
    for (const ParentEdge& e : node.parents) {
      if (!IsRelativeCount(e.count)) {
        k = INT32_MAX;
        break;
      }
      k = std::min(k, RelativeIterations(e.count));
    }
    if (k != INT32_MAX) best = std::min(best, k + 1);
  }
  return best;
}

int32_t PushdownMatcher::RemainingIterations(NodeId node_id) const {
  int32_t best = 0;
  for (const ParentEdge& e : nodes_[node_id].parents) {
    if (e.call_edge < 0 || e.count < 0) continue;
    const CallEdge& call = a_->call_edges[e.call_edge];
    // This iteration is number count+1; after it, max - count - 1 remain, so
    // a token needing j iterations (this one included) fits when j <= max - count.
    int32_t remaining = call.max_calls == kUnbounded ? INT32_MAX : call.max_calls - e.count;
    best = std::max(best, remaining);
  }
  return best;
}

NodeId PushdownMatcher::NewNode(RuleId rule, GuardId guard) {
  NodeId id;
  if (!free_nodes_.empty()) {
    id = free_nodes_.back();
    free_nodes_.pop_back();
  } else {
    id = static_cast<NodeId>(nodes_.size());
    nodes_.emplace_back();
  }
  Node& n = nodes_[id];
  n.serial = ++node_serial_counter_;
  n.rule = rule;
  n.guard = guard;
  n.step = step_counter_;
  n.kind = NodeKind::kCall;  // callers that make a special node set its kind after
  n.released = false;
  n.refs = 0;
  n.parents.clear();  // keeps capacity: recycled nodes do not allocate
  n.completions.clear();
  created_nodes_.push_back(id);
  return id;
}

void PushdownMatcher::Unref(NodeId node) {
  // Iterative: a released chain can be as deep as the input is nested.
  std::vector<NodeId>& pending = unref_stack_;
  pending.push_back(node);
  while (!pending.empty()) {
    NodeId id = pending.back();
    pending.pop_back();
    if (--nodes_[id].refs > 0) continue;
    for (const ParentEdge& e : nodes_[id].parents) pending.push_back(e.parent);
    nodes_[id].released = true;
    free_nodes_.push_back(id);
  }
}

void PushdownMatcher::BeginStep() {
  ++step_counter_;
  work_.clear();
  created_nodes_.clear();
  seen_items_.Clear();
  step_nodes_.Clear();
  seen_edges_.Clear();
  accepting_ = false;
  repetition_completed_ = kNoRepetition;
  escaped_end_ = false;
  unguarded_end_ = false;
  step_work_ = 0;
}

void PushdownMatcher::AddItem(StateId state, NodeId node, GuardId guard) {
  if (!seen_items_.Insert(Item{state, node, guard})) return;
  work_.push_back({state, node, guard});
}

bool PushdownMatcher::FinishStep() {
  const Automaton& a = *a_;
  // One comparison per item covers both limits (-1, no limit, is the largest as unsigned).
  step_work_limit_ = work_limited_ ? DefaultStepWorkLimit() : -1;
  const uint64_t work_limit = std::min(static_cast<uint64_t>(step_work_limit_), static_cast<uint64_t>(call_work_left_));
  for (size_t i = 0; i < work_.size(); ++i) {
    if (static_cast<uint64_t>(++step_work_) > work_limit) AbandonStepOverBudget();
    Item item = work_[i];
    if (a.is_final[item.state]) Complete(item.node, item.guard, a.state_rule[item.state]);
    for (int32_t e = a.call_edge_begin[item.state]; e < a.call_edge_begin[item.state + 1]; ++e) {
      const CallEdge& call = a.call_edges[e];
      if (!call.is_counted() && IsTailCall(call.target, item.node)) {
        // Tail call (Leo's optimisation): the caller ends as soon as the callee
        // does, so the callee returns straight to the caller's callers. Without
        // this, right recursion would climb a chain as long as the input.
        for (size_t p = 0; p < nodes_[item.node].parents.size(); ++p) {
          ParentEdge edge = nodes_[item.node].parents[p];  // copy: nodes_ may grow
          Call(call.rule, item.guard, edge);
        }
        continue;
      }
      Call(call.rule, item.guard,
           ParentEdge{call.target, item.node, call.is_counted() ? e : -1, 0});
    }
  }
  size_t begin = items_.size();
  uint32_t num_inside = 0;
  for (const Item& item : work_) {
    if (a.HasByteEdges(item.state)) {
      items_.push_back(item);
      Ref(item.node);
      num_inside += (item.guard & kEscapedBit) == 0;
    }
  }
  size_t end = items_.size();
  if (call_work_left_ >= 0) call_work_left_ = std::max<int64_t>(0, call_work_left_ - step_work_);
  ReleaseUnkeptNodes();
  if (begin == end && !accepting_ && !escaped_end_ && !steps_.empty()) return false;
  steps_.push_back({begin, end, accepting_, num_inside, repetition_completed_, accepting_ && !unguarded_end_});
  return true;
}

// Nodes made in this closure that nothing kept are released. One released
// earlier in this loop (the last reference to it was a parent edge of a node
// released before it) also has no references left, and must not be released
// twice: its id would enter the free list twice and two nodes would share it.
void PushdownMatcher::ReleaseUnkeptNodes() {
  for (NodeId id : created_nodes_) {
    if (nodes_[id].refs == 0 && !nodes_[id].released) {
      ++nodes_[id].refs;
      Unref(id);
    }
  }
}

// The step keeps no item, as a dead step, and releases what its closure made.
void PushdownMatcher::AbandonStepOverBudget() {
  work_.clear();
  ReleaseUnkeptNodes();
  const char* why = " (an ambiguous or deeply nested grammar on a long input); the matcher is unchanged. ";
  if (step_work_limit_ >= 0 && step_work_ > step_work_limit_) {
    throw MatchBudgetError("one byte step of the matcher visited more than " + std::to_string(step_work_limit_) +
                           " items and parent edges" + why +
                           "Raise the limit with xgram.set_match_limits(max_step_work=...)");
  }
  throw MatchBudgetError(std::string(call_name_) + " visited more items and parent edges than its budget" + why +
                         "Raise the limit with xgram.set_match_limits(max_fill_work=...)");
}

void PushdownMatcher::Complete(NodeId node_id, GuardId guard, RuleId rule) {
  StateId lookahead = a_->rules[rule].lookahead_start;
  if (lookahead != kNone) guard = AddLookahead(guard, lookahead);
  switch (nodes_[node_id].kind) {
    case NodeKind::kRoot:
      if (guard == 0) accepting_ = unguarded_end_ = true;
      return;
    case NodeKind::kOrigin:
      // The rule can end here (CanEnd: tokens going on are crossing). Bytes
      // ending here are valid in every context only when no lookahead is
      // pending: one that is must be met by what follows the rule, which the
      // context decides (after the grammar's root nothing can meet it), so
      // such an end alone leaves the token to be checked in context.
      accepting_ = true;
      if (guard == 0) unguarded_end_ = true;
      if (escape_) {
        Escape(rule, guard, /*from_origin=*/true);
      } else if (self_repeat_) {
        ReturnTo(ParentEdge{rule, node_id, kSelfRepeatEdge, -1}, guard | kEscapedBit,
                 /*empty_iteration=*/false);
      }
      return;
    case NodeKind::kContext:
      // The known caller's rule ends: bytes ending here are valid (every state
      // can reach an end); further bytes depend on callers beyond it.
      if (guard == 0) accepting_ = unguarded_end_ = true;
      Escape(rule, guard, /*from_origin=*/false);
      return;
    case NodeKind::kWildcard:
      // Some context may call this rule as the grammar's root: the escaped thread
      // can then end here, so the bytes so far stay possible.
      if (rule == a_->root && (guard & kGuardMask) == 0) escaped_end_ = true;
      Escape(rule, guard, /*from_origin=*/false);
      return;
    case NodeKind::kCall:
      break;
  }
  Node& node = nodes_[node_id];
  bool empty = node.step == step_counter_;
  if (empty) {
    if (std::find(node.completions.begin(), node.completions.end(), guard) !=
        node.completions.end()) {
      return;
    }
    node.completions.push_back(guard);
  }
  // Parents added after this point see the completion through `completions`.
  size_t num_parents = node.parents.size();
  step_work_ += static_cast<int64_t>(num_parents);
  for (size_t i = 0; i < num_parents; ++i) {
    ParentEdge edge = nodes_[node_id].parents[i];  // copy: nodes_ may grow
    ReturnTo(edge, guard, empty);
  }
}

bool PushdownMatcher::IsTailCall(StateId return_state, NodeId caller) const {
  const Automaton& a = *a_;
  if (!a.is_final[return_state] || a.HasByteEdges(return_state) ||
      a.call_edge_begin[return_state] != a.call_edge_begin[return_state + 1]) {
    return false;
  }
  // The caller's completion must be a plain return: no lookahead to add, a frozen
  // parent list (made in an earlier step), no counted edge whose "empty
  // iteration" test would see the callee instead of the caller, and an ordinary
  // node (root, origin and wildcard nodes complete specially).
  const Node& node = nodes_[caller];
  if (node.kind != NodeKind::kCall || node.step == step_counter_) return false;
  if (a.rules[a.state_rule[return_state]].lookahead_start != kNone) return false;
  for (const ParentEdge& e : node.parents) {
    if (e.call_edge != -1) return false;  // counted or self-repeat
  }
  return true;
}

void PushdownMatcher::ReturnTo(const ParentEdge& edge, GuardId guard, bool empty_iteration) {
  if (edge.call_edge == kSelfRepeatEdge) {
    int32_t k = RelativeIterations(edge.count);
    repetition_completed_ = std::min(repetition_completed_, k + 1);
    if (!empty_iteration && k < (1 << 29)) {
      Call(edge.return_state, guard, ParentEdge{edge.return_state, edge.parent, kSelfRepeatEdge, -1 - (k + 1)});
    }
    return;
  }
  if (edge.call_edge < 0) {
    AddItem(edge.return_state, edge.parent, guard);
    return;
  }
  const CallEdge& call = a_->call_edges[edge.call_edge];
  if (edge.count == kUnknownCount) {
    AddItem(call.target, edge.parent, guard);
    if (!empty_iteration) Call(call.rule, guard, edge);
    return;
  }
  if (IsRelativeCount(edge.count)) {
    // Iteration k after the origin's just ended: the bytes fit in k+1 iterations.
    int32_t k = RelativeIterations(edge.count);
    repetition_completed_ = std::min(repetition_completed_, k + 1);
    AddItem(call.target, edge.parent, guard);
    if (!empty_iteration && k < (1 << 29)) {
      Call(call.rule, guard, ParentEdge{edge.return_state, edge.parent, edge.call_edge, -1 - (k + 1)});
    }
    return;
  }
  int32_t count = edge.count + 1;
  if (count >= call.min_calls) AddItem(call.target, edge.parent, guard);
  // An empty iteration makes no progress; the builder lowered min to 1 for
  // nullable rules, so it is never needed to reach the minimum either.
  if (empty_iteration) return;
  if (call.max_calls != kUnbounded && count >= call.max_calls) return;
  // Past the minimum of an unbounded repetition all counts behave alike.
  if (call.max_calls == kUnbounded) count = std::min(count, call.min_calls);
  Call(call.rule, guard, ParentEdge{edge.return_state, edge.parent, edge.call_edge, count});
}

void PushdownMatcher::Call(RuleId rule, GuardId guard, const ParentEdge& edge) {
  bool created;
  NodeId& slot = step_nodes_.FindOrInsert(NodeKey{rule, guard}, kNone, &created);
  NodeId node_id;
  if (created) {
    node_id = NewNode(rule, guard);
    slot = node_id;
    AddItem(a_->rules[rule].start, node_id, guard);
  } else {
    node_id = slot;
  }
  if (!seen_edges_.Insert(EdgeKey{node_id, edge})) return;
  nodes_[node_id].parents.push_back(edge);
  Ref(edge.parent);
  // A nullable callee may already have completed in this closure.
  size_t num_completions = nodes_[node_id].completions.size();
  for (size_t i = 0; i < num_completions; ++i) {
    ReturnTo(edge, nodes_[node_id].completions[i], /*empty_iteration=*/true);
  }
}

bool PushdownMatcher::AdvanceByte(uint8_t byte) {
  const Automaton& a = *a_;
  const StepRecord current = steps_.back();
  if (current.end - current.begin == 1 && (items_[current.begin].guard & kGuardMask) == 0) {
    // Fast path for the common case of one thread moving inside a rule: when the
    // target neither completes nor calls, the closure would be just that item.
    Item item = items_[current.begin];
    StateId next = a.NextByte(item.state, byte);
    if (next == kNone) return false;
    if (a.IsSimple(next)) {
      ++step_counter_;
      size_t begin = items_.size();
      items_.push_back({next, item.node, item.guard});
      Ref(item.node);
      steps_.push_back({begin, begin + 1, false, (item.guard & kEscapedBit) ? 0u : 1u, kNoRepetition, false});
      FinishAdvance();
      return true;
    }
  }
  BeginStep();
  for (size_t i = current.begin; i < current.end; ++i) {
    const Item item = items_[i];
    StateId next = a.NextByte(item.state, byte);
    if (next == kNone) continue;
    GuardId guard = item.guard;
    if (guard & kGuardMask) {
      GuardId advanced = AdvanceGuard(guard & kGuardMask, byte);
      if (advanced == kDeadGuard) continue;
      guard = advanced | (guard & kEscapedBit);
    }
    AddItem(next, item.node, guard);
  }
  if (work_.empty() || !FinishStep()) return false;
  FinishAdvance();
  return true;
}

void PushdownMatcher::FinishAdvance() {
  ++total_steps_;
  if (max_rollback_steps_ >= 0) {
    while (static_cast<int64_t>(steps_.size()) - 1 > max_rollback_steps_) DropOldestStep();
  }
}

bool PushdownMatcher::PushThread(const Item& item) {
  BeginStep();
  AddItem(item.state, item.node, item.guard);
  if (!FinishStep()) return false;
  FinishAdvance();
  return true;
}

bool PushdownMatcher::AdvanceBytes(const uint8_t* data, size_t size) {
  size_t i = 0;
  RollbackOnThrow undo(this, &i);  // all or none, over budget as for a refused byte
  for (; i < size; ++i) {
    if (!AdvanceByte(data[i])) {
      Rollback(static_cast<int64_t>(i));
      return false;
    }
  }
  return true;
}

void PushdownMatcher::PopStep() {
  StepRecord last = steps_.back();
  steps_.pop_back();
  for (size_t i = last.begin; i < last.end; ++i) Unref(items_[i].node);
  items_.resize(last.begin);
}

void PushdownMatcher::DropOldestStep() {
  StepRecord first = steps_.front();
  steps_.pop_front();
  for (size_t i = first.begin; i < first.end; ++i) Unref(items_[i].node);
  // Compact the item arena once the released prefix dominates it.
  size_t dead = steps_.front().begin;
  if (dead > 4096 && dead * 2 > items_.size()) {
    items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(dead));
    for (StepRecord& s : steps_) s.begin -= dead, s.end -= dead;
  }
}

void PushdownMatcher::ForgetOldestSteps(int64_t steps) {
  for (int64_t i = 0; i < steps && steps_.size() > 1; ++i) DropOldestStep();
}

void PushdownMatcher::Rollback(int64_t steps) {
  if (steps < 0) throw UsageError("the number of steps to roll back must be >= 0, got " + std::to_string(steps));
  if (steps > NumRollbackableSteps()) {
    throw UsageError("cannot roll back " + std::to_string(steps) + " steps: only " +
                     std::to_string(NumRollbackableSteps()) + " are kept");
  }
  for (int64_t i = 0; i < steps; ++i) PopStep();
  total_steps_ -= steps;
}

GuardId PushdownMatcher::InternGuard(std::vector<StateId> states) {
  std::sort(states.begin(), states.end());
  states.erase(std::unique(states.begin(), states.end()), states.end());
  std::string key(reinterpret_cast<const char*>(states.data()), states.size() * sizeof(StateId));
  auto it = guard_ids_.find(key);
  if (it != guard_ids_.end()) return it->second;
  GuardId id = static_cast<GuardId>(guard_sets_.size());
  guard_sets_.push_back(std::move(states));
  guard_ids_.emplace(std::move(key), id);
  return id;
}

GuardId PushdownMatcher::AdvanceGuard(GuardId guard, uint8_t byte) {
  uint64_t key = (uint64_t(uint32_t(guard)) << 8) | byte;
  auto it = guard_transitions_.find(key);
  if (it != guard_transitions_.end()) return it->second;
  std::vector<StateId> next;
  GuardId result = 0;
  for (StateId s : guard_sets_[guard]) {
    StateId t = a_->NextLookaheadByte(s, byte);
    if (t == kNone) {
      result = kDeadGuard;
      break;
    }
    if (!a_->lookahead_final[t]) next.push_back(t);  // satisfied assertions drop out
  }
  if (result != kDeadGuard) result = InternGuard(std::move(next));
  guard_transitions_[key] = result;
  return result;
}

GuardId PushdownMatcher::AddLookahead(GuardId guard_with_flags, StateId lookahead_start) {
  GuardId flags = guard_with_flags & kEscapedBit;
  GuardId guard = guard_with_flags & kGuardMask;
  uint64_t key = (uint64_t(uint32_t(guard)) << 32) | uint32_t(lookahead_start) | (1ULL << 63);
  auto it = guard_transitions_.find(key);
  if (it != guard_transitions_.end()) return it->second | flags;
  std::vector<StateId> states = guard_sets_[guard];
  states.push_back(lookahead_start);
  GuardId result = InternGuard(std::move(states));
  guard_transitions_[key] = result;
  return result | flags;
}

}  // namespace xgram
