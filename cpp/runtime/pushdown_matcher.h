// Runs an Automaton over bytes with a graph-structured stack (GSS).
//
// A *thread* of the parse is an item (state, node, guard): `state` is a position
// inside some rule's automaton, `node` is the top of its call stack and `guard`
// the set of lookahead assertions its future bytes must still satisfy.
//
// Stack nodes are shared. Calling rule R at step i with guard g always yields the
// same node (R, i, g), whoever the caller is; the node records every caller as a
// parent edge (return state, caller's node, repetition count). This is the
// classic GSS, and it is what makes the matcher an Earley recogniser in disguise:
// the number of items per step is bounded by (states x live nodes), so ambiguity
// costs polynomial time instead of exponential, and left recursion terminates
// because the second call of R at step i finds the node made by the first.
//
// One step per input byte:
//   scan     every item whose state has an edge for the byte moves along it;
//   closure  worklist over the new items: a final state *completes* its rule
//            (each parent edge of the node continues), a call edge *predicts*
//            (find or make the callee's node, add a parent edge). A node that
//            completes in the step that created it (a nullable rule) remembers the
//            guards it completed with, so callers that arrive later in the same
//            closure are continued too (the Aycock-Horspool fix).
//   store    items that can read a further byte are kept as the step's record.
//
// Counted calls (x{m,n} over a helper rule) keep the count on the parent edge;
// completing iteration c continues the caller when c >= m and calls the rule
// again with c+1 when c < n, so a bound of 100000 costs no extra states.
//
// Classification mode (ResetForClassification) serves the token-mask cache: it
// starts one thread at a state s of rule R on an *origin* node standing for an
// unknown caller. Completing the origin means the bytes so far can end R here;
// the thread then *escapes*: it continues at every call site of R in the grammar,
// on wildcard nodes that stand for any caller of their rule, and carries
// kEscapedBit in its guard. That over-approximates every real context, so a token
// that dies on all escaped threads is rejected in any context, and one that only
// escaped threads survive is context-dependent ("uncertain").
//
// Counted repetitions get one refinement in classification mode. When the origin
// rule R is the body of a counted call (x{m,n}), the escape through that call
// site re-calls R with a *relative* count k (iterations after the origin's). A
// thread inside such a re-call, or one whose re-call just completed, shows the
// bytes fit in k+1 iterations; RepetitionNeeded() reports the least such k+1.
// The mask cache stores those tokens with that number, and the token matcher
// allows them when the live repetition has that many iterations left, instead
// of checking each one (a string with maxLength would otherwise make nearly
// every token context-dependent).
//
// Work is bounded. The closure of one byte step visits each item and, for each
// completion, each parent edge of the completed node; in an ambiguous grammar
// both grow with the input (an Earley closure is linear per step in the input
// length, times the grammar), so a long enough input makes every step slower.
// In real mode (Reset) a step that visits more than the step work limit
// (SetDefaultStepWorkLimit, process-wide) stops, is undone like a dead step, and
// throws MatchBudgetError: the matcher is as it was before the byte. A caller
// that runs many steps in one go (a mask fill probing candidate tokens) also
// sets a budget over all of them (SetCallWorkBudget). The classification modes
// run a single token from one state, so their work is bounded by the grammar,
// and they have no limit.
//
// Nodes are reference counted (by stored items and by parent edges of other
// nodes) and recycled through a free list. The matcher keeps the records of the
// last `max_rollback_steps` steps for rollback and releases older ones, so memory
// is bounded by that window plus the live stack, however long the input.
#ifndef XGRAM_PUSHDOWN_MATCHER_H_
#define XGRAM_PUSHDOWN_MATCHER_H_

#include <cstdint>
#include <deque>
#include <exception>
#include <string>
#include <unordered_map>
#include <vector>

#include "automaton.h"
#include "flat_set.h"

namespace xgram {

using NodeId = int32_t;
using GuardId = int32_t;  // 0: no pending lookahead
constexpr int32_t kNoRepetition = INT32_MAX;
// Set in the guard of threads that escaped the origin rule (classification mode).
constexpr GuardId kEscapedBit = 1 << 30;
constexpr GuardId kGuardMask = kEscapedBit - 1;

// One parent edge of a thread's known callers (see PushdownMatcher::KnownCallers):
// call `from` (0: the thread's own call, k > 0: the caller made by edge k-1)
// returns to `return_state`, in a new call made for this edge.
struct CallerFrame {
  int32_t from;
  StateId return_state;
  int32_t call_edge;  // the counted call edge this is an iteration of, or -1
  int32_t count;      // its completed iterations (canonical, see KnownCallers)
};

struct Item {
  StateId state;
  NodeId node;
  GuardId guard;
  bool operator==(const Item& o) const {
    return state == o.state && node == o.node && guard == o.guard;
  }
  uint64_t Hash() const {
    return MixHash((uint64_t(uint32_t(state)) << 32) ^ uint32_t(node) ^ (uint64_t(guard) << 50));
  }
};

// Most items and parent edges one byte step of a real-mode matcher may visit
// (see above). Process-wide; read at every step.
int64_t DefaultStepWorkLimit();
void SetDefaultStepWorkLimit(int64_t limit);
// The same over all the steps of one mask fill (GrammarMatcher).
int64_t DefaultFillWorkLimit();
void SetDefaultFillWorkLimit(int64_t limit);

class PushdownMatcher {
 public:
  // A caller that advances byte by byte (a probe, a multi-byte advance) and can
  // be interrupted by MatchBudgetError keeps the steps it holds in `*steps`;
  // leaving the scope by an exception rolls them back, so the matcher is as the
  // caller found it.
  class RollbackOnThrow {
   public:
    RollbackOnThrow(PushdownMatcher* matcher, const size_t* steps)
        : matcher_(matcher), steps_(steps), exceptions_(std::uncaught_exceptions()) {}
    ~RollbackOnThrow() {
      if (std::uncaught_exceptions() > exceptions_ && *steps_ > 0) matcher_->Rollback(static_cast<int64_t>(*steps_));
    }
    RollbackOnThrow(const RollbackOnThrow&) = delete;
    RollbackOnThrow& operator=(const RollbackOnThrow&) = delete;

   private:
    PushdownMatcher* matcher_;
    const size_t* steps_;
    int exceptions_;
  };

  // `max_rollback_steps`: how many byte steps can be undone (-1: all).
  explicit PushdownMatcher(AutomatonPtr automaton, int64_t max_rollback_steps = -1);
  PushdownMatcher(const PushdownMatcher&) = default;
  PushdownMatcher& operator=(const PushdownMatcher&) = default;

  // Consumes one byte; returns false and changes nothing when it cannot follow.
  bool AdvanceByte(uint8_t byte);
  // Consumes all bytes or none.
  bool AdvanceBytes(const uint8_t* data, size_t size);
  // The input so far is a complete sentence (the root rule can end here).
  bool CanEnd() const { return steps_.back().accepting; }
  // Some continuation of the input is a sentence (always true after a successful
  // step: dead threads are pruned at compile time).
  bool IsAlive() const { return !StepItemsEmpty() || CanEnd(); }

  void Rollback(int64_t steps);
  void Reset();
  // Work the following steps may do together, until ClearCallWorkBudget (each
  // step still has its own limit); `what` names the call in the error.
  void SetCallWorkBudget(int64_t budget, const char* what) {
    call_work_left_ = budget;
    call_name_ = what;
  }
  void ClearCallWorkBudget() { call_work_left_ = -1; }
  // Classification mode: one thread at `state` over an origin node (see above).
  // `escape` false: completing the origin only marks the end (CanEnd) and its
  // threads stop there, which decides the caller-independent part of an entry.
  // `self_repeat` (with escape false): completing the origin also starts another
  // iteration of its rule, as a counted repetition would, with relative counts.
  void ResetForClassification(StateId state, bool escape = true, bool self_repeat = false);
  // Classification in a known context: the thread at `state` runs in a call
  // whose callers, to some depth, are the tree `callers[0..n)`. Completing a
  // call with no known caller (a leaf) escapes (kEscapedBit) as above, and
  // ending it exactly at the last byte counts as CanEnd. A token an inside
  // thread survives is valid in that context; one that only escaped threads
  // survive still depends on what lies beyond.
  void ResetForContext(StateId state, const CallerFrame* callers, int32_t num_callers);
  // Real mode: the callers of `node` as a tree of parent edges, breadth
  // first, up to `max_depth` calls above it and `max_edges` edges. A call
  // whose callers are not ordinary calls is a leaf. Iteration counts of
  // counted calls are canonical for input of at most `max_bytes` bytes: counts
  // no such input can tell apart (past the minimum, far from the maximum) are
  // one. Returns the number of edges, 0 when `node` itself has none to give.
  int32_t KnownCallers(NodeId node, int32_t max_depth, int32_t max_edges, int32_t max_bytes,
                       CallerFrame* out) const;
  // Classification mode: a re-called iteration of the origin's repetition ended
  // in the current step (so input could leave the repetition here).
  bool RepetitionCompletedHere() const { return steps_.back().repetition_completed != kNoRepetition; }
  // Some thread that has not escaped the origin rule is alive.
  bool HasInsideThreads() const { return steps_.back().num_inside > 0; }
  // Classification mode: the origin's rule can end here only with a lookahead
  // pending, which what follows the rule must meet: ending here is valid in
  // some contexts at most (after the root, in none).
  bool EndNeedsContext() const { return steps_.back().end_needs_context; }
  // The single thread of the current step, when there is exactly one and it has
  // no pending lookahead (its moves are then plain DFA transitions until it
  // reaches a state that calls or completes).
  bool SingleThread(Item* item) const {
    const StepRecord& step = steps_.back();
    if (step.end - step.begin != 1) return false;
    *item = items_[step.begin];
    return (item->guard & kGuardMask) == 0;
  }
  // Pushes a step made of `item` and its closure, as if the bytes that led the
  // thread there had been advanced one by one. False (nothing pushed) if dead.
  bool PushThread(const Item& item);
  // Classification mode: the fewest iterations of the origin's counted repetition
  // that the bytes so far fit in, along a path that stays in that repetition
  // (kNoRepetition if none).
  // `include_completed`: also count re-calls that completed in this step (valid
  // only for input ending here, not for longer input).
  int32_t RepetitionNeeded(bool include_completed = true) const;
  // Real mode: how many more iterations the counted repetition that called
  // `node` allows after the current one ends, over its callers (0 if none).
  int32_t RemainingIterations(NodeId node) const;
  // Releases the records of the oldest `steps` steps (they can no longer be rolled back).
  void ForgetOldestSteps(int64_t steps);
  int64_t NumSteps() const { return total_steps_; }
  int64_t NumRollbackableSteps() const { return static_cast<int64_t>(steps_.size()) - 1; }

  // Items of the current step (threads that can read another byte).
  const Item* CurrentItemsBegin() const { return items_.data() + steps_.back().begin; }
  const Item* CurrentItemsEnd() const { return items_.data() + steps_.back().end; }
  size_t NumCurrentItems() const { return steps_.back().end - steps_.back().begin; }
  size_t NumLiveNodes() const { return nodes_.size() - free_nodes_.size(); }
  // Identifies a node's content for as long as the matcher lives: two items with
  // equal (state, serial, guard) continue identically.
  uint64_t NodeSerial(NodeId node) const { return nodes_[node].serial; }
  const Automaton& automaton() const { return *automaton_; }

 private:
  struct ParentEdge {
    StateId return_state;
    NodeId parent;
    int32_t call_edge;  // index in automaton.call_edges for counted calls, else -1
    int32_t count;      // completed iterations of a counted call
    bool operator==(const ParentEdge& o) const {
      return return_state == o.return_state && parent == o.parent && call_edge == o.call_edge &&
             count == o.count;
    }
  };
  enum class NodeKind : uint8_t { kCall, kRoot, kOrigin, kWildcard, kContext };
  struct Node {
    uint64_t serial = 0;  // unique over the matcher's life, unlike recycled ids
    NodeKind kind = NodeKind::kCall;
    RuleId rule = kNone;
    GuardId guard = 0;
    int64_t step = -1;  // the step whose closure created it
    uint32_t refs = 0;
    bool released = false;  // on the free list
    std::vector<ParentEdge> parents;
    std::vector<GuardId> completions;  // guards it completed with during its own step
  };
  struct StepRecord {
    size_t begin;
    size_t end;
    bool accepting;       // the root (origin in classification mode) can end here
    uint32_t num_inside;  // items without kEscapedBit
    int32_t repetition_completed = kNoRepetition;  // see RepetitionNeeded()
    bool end_needs_context = false;  // see EndNeedsContext()
  };
  struct NodeKey {
    RuleId rule;
    GuardId guard;
    bool operator==(const NodeKey& o) const { return rule == o.rule && guard == o.guard; }
    uint64_t Hash() const { return MixHash((uint64_t(uint32_t(rule)) << 32) | uint32_t(guard)); }
  };
  struct EdgeKey {
    NodeId node;
    ParentEdge edge;
    bool operator==(const EdgeKey& o) const { return node == o.node && edge == o.edge; }
    // Five fields in 160 bits: two 64-bit words mixed in turn. (Folding shifted
    // fields together with XOR before one mix lets keys that differ only in
    // overlapping bits of node, parent and count collide exactly.)
    uint64_t Hash() const {
      uint64_t h = MixHash((uint64_t(uint32_t(node)) << 32) | uint32_t(edge.return_state));
      return MixHash(h ^ ((uint64_t(uint32_t(edge.parent)) << 32) | uint32_t(edge.call_edge)) ^
                     (uint64_t(uint32_t(edge.count)) * 0x9E3779B97F4A7C15ULL));
    }
  };

  bool StepItemsEmpty() const { return steps_.back().begin == steps_.back().end; }
  void BeginStep();
  // closure + store; false if the step is dead (then undone); throws
  // MatchBudgetError, the step undone, past the step work limit.
  bool FinishStep();
  void ReleaseUnkeptNodes();
  [[noreturn]] void AbandonStepOverBudget();
  void AddItem(StateId state, NodeId node, GuardId guard);
  void Complete(NodeId node, GuardId guard, RuleId rule);
  void ReturnTo(const ParentEdge& edge, GuardId guard, bool empty_iteration);
  void Call(RuleId rule, GuardId guard, const ParentEdge& edge);
  void Escape(RuleId rule, GuardId guard, bool from_origin);
  bool IsTailCall(StateId return_state, NodeId caller) const;
  NodeId WildcardNode(RuleId rule);
  void ResetCommon();
  NodeId NewNode(RuleId rule, GuardId guard);
  void Ref(NodeId node) { ++nodes_[node].refs; }
  void Unref(NodeId node);
  void FinishAdvance();  // bookkeeping after a successful step
  void DropOldestStep();
  void PopStep();

  // Lookahead guards: interned sets of lookahead-DFA states.
  GuardId AdvanceGuard(GuardId guard, uint8_t byte);
  GuardId AddLookahead(GuardId guard, StateId lookahead_start);
  GuardId InternGuard(std::vector<StateId> states);

  AutomatonPtr automaton_;
  const Automaton* a_;  // == automaton_.get(), for the hot path
  int64_t max_rollback_steps_;

  std::vector<Node> nodes_;
  std::vector<NodeId> free_nodes_;
  std::vector<Item> items_;  // records of all kept steps, back to back
  std::deque<StepRecord> steps_;
  int64_t step_counter_ = 0;  // never reused, so node.step identifies a closure
  uint64_t node_serial_counter_ = 0;
  int64_t total_steps_ = 0;

  // Per-step scratch.
  std::vector<Item> work_;
  std::vector<NodeId> created_nodes_;
  std::vector<NodeId> unref_stack_;
  FlatMap<Item, int32_t> seen_items_;
  FlatMap<NodeKey, NodeId> step_nodes_;
  FlatMap<EdgeKey, int32_t> seen_edges_;
  int64_t step_work_ = 0;         // items and parent edges visited by this step
  int64_t step_work_limit_ = -1;  // of this step: DefaultStepWorkLimit or -1 (none)
  bool work_limited_ = false;     // real mode, past the first closure
  int64_t call_work_left_ = -1;   // see SetCallWorkBudget; -1: none
  const char* call_name_ = "";
  bool accepting_ = false;
  int32_t repetition_completed_ = kNoRepetition;
  bool escaped_end_ = false;  // classification: an escaped thread ended the grammar
  bool unguarded_end_ = false;  // accepting_ was set with no lookahead pending

  std::vector<NodeId> wildcard_nodes_;  // per rule, classification mode only
  bool escape_ = true;
  bool self_repeat_ = false;

  std::vector<std::vector<StateId>> guard_sets_;
  std::unordered_map<std::string, GuardId> guard_ids_;
  std::unordered_map<uint64_t, GuardId> guard_transitions_;
};

}  // namespace xgram

#endif  // XGRAM_PUSHDOWN_MATCHER_H_
