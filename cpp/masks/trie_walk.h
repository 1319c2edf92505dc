// The trie walk that classifies a vocabulary from one automaton state, shared by
// the three layers of the token-mask cache (token_mask_cache.h).
//
// The walk visits the tokenizer's prefix trie in depth-first order, one byte per
// edge, with a PushdownMatcher in classification mode: a rollback when it climbs
// back up, a whole subtree skipped as soon as a prefix dies. While the parse is
// one thread moving through states that neither call nor complete (inside
// strings, names, numbers; the root's free text, whose end leads nowhere) it
// follows plain DFA transitions and the matcher runs only where calls and
// completions are. Two kinds of regions let it skip
// most of the vocabulary in free-text states:
//   plain-text regions   a DFA state looping on every JSON string character:
//                        every plain token below the node is accepted, and
//                        only tokens holding '"', '\\', broken UTF-8 (and
//                        control bytes, unless the loop kills them) are walked;
//   loop-class regions   a DFA state whose self-loops cover every byte below
//                        the node (ASCII bytes by class, multi-byte characters
//                        by lead byte when the subtree's UTF-8 is well formed):
//                        the subtree is accepted unvisited (URIs, hostnames,
//                        pattern classes, the "no match yet" state of an
//                        unanchored pattern).
// And the tokens that leave a string at a quote are decided once per distinct
// suffix after it (see SuffixVerdicts).
#ifndef XGRAM_TRIE_WALK_H_
#define XGRAM_TRIE_WALK_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <vector>

#include "automaton.h"
#include "mask_walk_index.h"
#include "pushdown_matcher.h"
#include "tokenizer_info.h"

namespace xgram {
namespace trie_walk {

// WalkTrie (at the end of this file) walks the trie from an automaton state
// with a classification matcher and tells a walker (WalkHooks) what it finds:
// the live tokens of every reached node (OnTokens, with a WalkResult) and every
// subtree that dies (OnDead); Visit may prune subtrees up front. While the
// parse is one thread moving through states that neither call nor complete
// (StepsAsDfa, below) the walk follows plain DFA transitions; the matcher runs
// only where calls and completions are.
struct WalkResult {
  bool valid_everywhere;  // an inside thread survives, or the rule ends right here
  int32_t needed;         // see PushdownMatcher::RepetitionNeeded
};

// Ends that lead nowhere. Nothing reads on after the end of a rule without
// call sites (the root, unless it recurses): only stop tokens follow it, so a
// token that goes on past such an end is simply rejected there, and ending
// decides nothing but "valid when the token stops here", which the thread that
// stays inside the rule decides as well. The walk therefore
//   - steps through a final state of such a rule in DFA mode, like a simple
//     state (`StepsAsDfa`), so its free text gets plain-text and loop-class
//     regions instead of the matcher at every trie node;
//   - does not mark such an end on the path: the tokens that die after it are
//     rejected, not "crossing" (Layer B would only find that nothing follows).
// Without this, a free-text state where the whole output may end (structural
// tags: text until a trigger, at the top level) took a matcher step at every
// node of the vocabulary's trie on first use, where the same text followed by
// anything walks only the tokens that leave the text. A rule with a lookahead
// keeps the matcher: its end attaches a guard.
inline bool EndLeadsNowhere(const Automaton& a, RuleId rule) {
  return a.call_site_begin[rule] == a.call_site_begin[rule + 1] && a.rules[rule].lookahead_start == kNone;
}
// Whether DFA mode steps a thread through `s`: it calls nothing, and it is not
// final or its rule's end leads nowhere.
inline bool StepsAsDfa(const Automaton& a, StateId s) {
  return a.call_edge_begin[s] == a.call_edge_begin[s + 1] &&
         (!a.is_final[s] || EndLeadsNowhere(a, a.state_rule[s]));
}

// Plain-text regions: once the walk reaches, inside the rule, a DFA state that
// loops on every JSON string-content character (LoopsOnPlainText), or reads a
// UTF-8 lead byte all of whose characters end in such a state, every plain
// token below that trie node is accepted wholesale (OnPlainRegion), and the walk
// only descends towards tokens holding a quote, a backslash or a control byte.
// This is what keeps a fresh "inside a string" state from costing a full trie walk.
// The walker answers PlainLoop(state), whether `state` is such a loop, and
// PlainAfterLead(state, lead byte), whether every character of that lead byte
// read from `state` ends in one; both answer kNoPlainLoop, kPlainLoop, or
// kPlainLoopNoControl (no state on the way reads a control byte).
constexpr int8_t kNoPlainLoop = 0, kPlainLoop = 1, kPlainLoopNoControl = 2;

// Loop-class regions (with plain-text regions, Layer A only): when the walk
// reaches, inside the rule, a DFA state whose self-loops cover every byte
// below the trie node (see LoopSet), every token below it stays in that state
// and is accepted (OnLoopSubtree) without visiting the subtree: free text of a
// format or a pattern class (URIs, hostnames, identifiers).
//
// LoopSet is a state's self-loops: the ASCII bytes (two words: 0-63, 64-127),
// and the lead bytes whose every complete character leads back to it (bit
// b - 0xC0; the walker's LoopClass fills them in only when asked `with_leads`).
struct LoopSet {
  std::array<uint64_t, 2> ascii{0, 0};
  uint64_t leads = 0;
};

// Every UTF-8 lead byte, C2-F4, as bits b - 0xC0.
constexpr uint64_t kAllLeads = ((uint64_t{1} << (0xF4 - 0xC0 + 1)) - 1) & ~uint64_t{3};
// The lead bytes all of whose complete characters lead from `s` back to `s`
// through states DFA mode steps (StepsAsDfa; collected in `inside_characters`).
uint64_t MultibyteLoopLeads(const Automaton& a, StateId s, std::vector<StateId>* inside_characters);

// The lead bytes (bit b - 0xC0) all of whose complete characters lead from a
// state `s` through states DFA mode steps (StepsAsDfa) into plain-text loops (`loops_plain`
// answers as PlainRegions::Loop), and the weakest kind of those loops
// (kPlainLoop as well when a state inside a character reads a control byte).
// Key states are why: in a key that must differ from the schema's names, the
// first character can enter the trie of names or the loop of other keys, and
// every character past ASCII enters the loop. Without this the walk would start a
// region at each complete character below such a lead byte instead of at the
// lead byte itself, visiting every character of those subtrees.
struct PlainLeads {
  uint64_t leads = 0;
  int8_t kind = kNoPlainLoop;
};
PlainLeads LeadsIntoPlainLoops(const Automaton& a, StateId s, const std::function<int8_t(StateId)>& loops_plain);

// Dense transition rows for the walk's DFA mode. A state's byte edges are a
// sorted list of ranges, and the walk asks for one transition per trie node it
// visits (a first visit of a free-text state: most of the trie), where a linear
// scan of a dozen ranges and a test of the target's kind per node would
// dominate the walk. A row maps all
// 256 bytes at once, built on a state's first DFA-mode step and kept with the
// grammar's mask cache (1 KiB per such state). It also folds in whether DFA
// mode steps through the target (StepsAsDfa), which the walk needs next:
//   kNone       no edge: the prefix dies;
//   t >= 0      target t, stepped in DFA mode;
//   t < kNone   target -t - 2, which calls or completes (the matcher takes the step).
class TransitionRows {
 public:
  explicit TransitionRows(const Automaton& automaton);
  ~TransitionRows();
  TransitionRows(const TransitionRows&) = delete;
  TransitionRows& operator=(const TransitionRows&) = delete;

  const StateId* Row(StateId state) const {
    const StateId* row = rows_[state].load(std::memory_order_acquire);
    return row ? row : Build(state);
  }
  static StateId Decode(StateId entry) { return entry >= kNone ? entry : -entry - 2; }
  size_t MemoryBytes() const { return num_rows_.load(std::memory_order_relaxed) * 256 * sizeof(StateId); }

 private:
  const StateId* Build(StateId state) const;
  const Automaton& automaton_;
  mutable std::unique_ptr<std::atomic<const StateId*>[]> rows_;
  mutable std::atomic<size_t> num_rows_{0};
};

// Flat repeated bodies (Layer A with self_repeat only): a counted repetition of
// a one-character rule (a string with maxLength) would hand every character to
// the matcher, which completes the iteration and calls the rule again, and that
// was most of such a state's first fill. When the rule is *flat* (no calls, no
// lookahead, a start that is not final, final states without edges) the matcher
// can never be needed inside it, so the walk does the completion itself and
// stays in DFA mode; `flat_repeat_start` is the rule's start, or kNone.
StateId FlatRepeatStart(const Automaton& a, RuleId rule);

// Quote suffixes (Layer A, `share_quote_suffixes`): in a string state nearly
// every token that leaves the string does it at its first quote after plain
// text, and the thread pushed there is the same for all of them while the
// matcher has taken no step yet (the walk's origin thread went there by DFA
// steps). Walked naively, the subtree below each such quote is walked again with
// the matcher for each prefix, though the vocabulary has only a few hundred
// distinct suffixes. So the suffix trie (MaskWalkIndex::quote_suffix_trie) is
// walked once per pushed thread, and every quote subtree copies its verdicts.
// What a walk decided for each suffix-trie node from one pushed thread:
constexpr int8_t kSuffixUnreached = 0, kSuffixLive = 1, kSuffixCrossing = 2, kSuffixDead = 3;
struct SuffixVerdicts {
  Item pushed;        // with the two below, the key: the walk's state at the quote
  int32_t needed;
  bool ended_before;
  std::vector<int8_t> verdict;     // per suffix-trie node (unreached below a dead one)
  std::vector<WalkResult> result;  // for live ones
};

// Where a walk starts: the automaton state, and how the parse may go on past
// the end of its rule.
struct WalkStart {
  StateId state = kNone;
  // Past the rule's end into every call site (Layer B), instead of stopping there.
  bool escape = false;
  // Into further iterations of the rule, when the grammar repeats it with a
  // counter (Layer A); `flat_repeat_start`: see FlatRepeatStart.
  bool self_repeat = false;
  StateId flat_repeat_start = kNone;
  // Into these callers only (Layer C: a context's known stack), if any.
  const CallerFrame* callers = nullptr;
  int32_t num_callers = 0;
  // Decide the tokens that leave a string at a quote once per suffix (Layer A).
  bool share_quote_suffixes = false;
};

// What a walk reports, by name. A walker derives from WalkHooks and hides the
// members it uses (the walk is a template over the walker's type, so the calls
// are static and inlined); the defaults walk everything and skip nothing.
struct WalkHooks {
  // Whether to enter trie node `node`'s subtree (false: passed unvisited).
  bool Visit(int32_t /*node*/) { return true; }
  // The tokens ending at trie node `node` are still live, with `result`.
  void OnTokens(int32_t /*node*/, const WalkResult& /*result*/) {}
  // The bytes of `node` die; `ended_before`: the rule could end on the way
  // there, so its tokens are crossing rather than rejected.
  void OnDead(int32_t /*node*/, bool /*ended_before*/) {}
  // Plain-text regions (see above): set PlainRegions to std::true_type and answer
  // PlainLoop / PlainAfterLead; OnPlainRegion(node) accepts the plain tokens
  // below `node` wholesale (the walk then visits only the non-plain ones).
  using PlainRegions = std::false_type;
  int8_t PlainLoop(StateId /*state*/) { return kNoPlainLoop; }
  int8_t PlainAfterLead(StateId /*state*/, uint8_t /*lead*/) { return kNoPlainLoop; }
  void OnPlainRegion(int32_t /*node*/) {}
  // Loop-class regions (see LoopSet): set LoopClasses to std::true_type and answer LoopClass;
  // OnLoopSubtree(node) accepts every token strictly below `node` unvisited.
  using LoopClasses = std::false_type;
  LoopSet LoopClass(StateId /*state*/, bool /*with_leads*/) { return {}; }
  void OnLoopSubtree(int32_t /*node*/) {}
};

// The walk itself (run by WalkTrie below). The loop in Run() visits the trie
// nodes in order; for each it
//   1. skips what a plain-text region accepted wholesale (and what dies there),
//   2. asks the walker whether to enter the subtree,
//   3. rolls the matcher back to the node's parent and steps the node's byte:
//      a DFA transition while the parse is one simple thread, the flat repeat's
//      own completion (StepFlatRepeat), the quote-suffix verdicts shared by
//      every quote after plain text (ShareQuoteSuffixes), else the matcher,
//   4. reports a dead subtree, or starts a plain-text region (TryPlainRegion),
//      accepts a subtree a loop covers (LoopCoversSubtree), or reports the
//      node's tokens.
// Per trie depth it keeps the single DFA thread (state kNone while the matcher
// holds the parse), the repetition count that thread needs, and whether the
// rule (or an iteration of its repetition) could end at a depth <= d.
template <typename Hooks>
class TrieWalker {
 public:
  TrieWalker(const AutomatonPtr& automaton, const TransitionRows& rows, const TokenizerInfo& tok,
             const WalkStart& start, Hooks& hooks)
      : a_(*automaton),
        rows_(rows),
        tok_(tok),
        index_(tok.walk_index()),
        start_(start),
        hooks_(hooks),
        matcher_(automaton, /*max_rollback_steps=*/-1),
        max_depth_(static_cast<size_t>(tok.max_token_bytes()) + 1),
        dfa_thread_(max_depth_, Item{kNone, kNone, 0}),
        dfa_needed_(max_depth_, kNoRepetition),
        ends_on_path_(max_depth_, 0),
        // An end of the origin's rule that leads nowhere is not an end on the
        // path (see EndLeadsNowhere); CanEnd still makes a token that stops there valid.
        ends_matter_(!EndLeadsNowhere(a_, a_.state_rule[start.state])) {
    if (start.num_callers > 0) {
      matcher_.ResetForContext(start.state, start.callers, start.num_callers);
    } else {
      matcher_.ResetForClassification(start.state, start.escape, start.self_repeat);
    }
    EnterDfaMode(0);
    ends_on_path_[0] = StepEnds();
  }

  void Run();

 private:
  // After a matcher step at `depth`: the single thread, if it steps as a DFA.
  void EnterDfaMode(int32_t depth) {
    Item single;
    if (matcher_.SingleThread(&single) && StepsAsDfa(a_, single.state)) {
      dfa_thread_[depth] = single;
      dfa_needed_[depth] = matcher_.RepetitionNeeded(/*include_completed=*/false);
    } else {
      dfa_thread_[depth].state = kNone;
    }
  }
  // What the matcher's last step decides for the bytes so far.
  WalkResult StepResult() {
    WalkResult r{(matcher_.CanEnd() && !matcher_.EndNeedsContext()) || matcher_.HasInsideThreads(), kNoRepetition};
    if (!r.valid_everywhere) r.needed = matcher_.RepetitionNeeded();
    return r;
  }
  // Whether the rule (or an iteration of its repetition) can end right there.
  bool StepEnds() { return (ends_matter_ && matcher_.CanEnd()) || matcher_.RepetitionCompletedHere(); }
  // Bookkeeping once the matcher has taken the step for trie depth `depth`.
  WalkResult AfterMatcherStep(int32_t depth) {
    matcher_depth_.push_back(depth);
    ends_on_path_[depth] = ends_on_path_[depth - 1] || StepEnds();
    EnterDfaMode(depth);
    return StepResult();
  }
  WalkResult StepFlatRepeat(const Item& parent, int32_t depth);
  void ShareQuoteSuffixes(int32_t i, const Item& pushed, int32_t depth);
  void WalkSuffixes(SuffixVerdicts* v);
  bool TryPlainRegion(int32_t i, const TrieNode& node, StateId dfa_state, StateId parent_state, int32_t depth);
  bool LoopCoversSubtree(int32_t i, StateId dfa_state);

  const Automaton& a_;
  const TransitionRows& rows_;
  const TokenizerInfo& tok_;
  const MaskWalkIndex& index_;
  const WalkStart& start_;
  Hooks& hooks_;
  PushdownMatcher matcher_;
  std::vector<int32_t> matcher_depth_{0};  // trie depth of each matcher step
  size_t max_depth_;
  std::vector<Item> dfa_thread_;
  std::vector<int32_t> dfa_needed_;
  std::vector<uint8_t> ends_on_path_;
  bool ends_matter_;
  int32_t region_end_ = -1;  // trie nodes below this index lie in a plain-text region
  // The region's dead tokens may be skipped too: control bytes kill them, and no
  // end of the rule on their path makes them crossing.
  bool region_skips_dead_ = false;
  std::vector<SuffixVerdicts> suffix_memo_;  // one per distinct pushed thread: usually one
  std::vector<uint8_t> suffix_ends_;
};

template <typename Hooks>
void TrieWalker<Hooks>::Run() {
  // Raw pointers: the loop below runs once per visited trie node, and indexing
  // through the vectors reloaded their data pointers on every access.
  const TrieNode* trie = tok_.trie().data();
  const uint8_t* plain = index_.plain_node().data();
  const int32_t* region_next = index_.region_next().data();
  const int32_t* region_next_live = index_.region_next_live().data();
  const int32_t* suffix_of = start_.share_quote_suffixes ? index_.quote_suffix_node().data() : nullptr;
  Item* dfa_thread = dfa_thread_.data();
  int32_t* dfa_needed = dfa_needed_.data();
  uint8_t* ends_on_path = ends_on_path_.data();
  const StateId* start_row = rows_.Row(start_.state);
  for (int32_t i = 1, n = static_cast<int32_t>(tok_.trie().size()); i < n;) {
    const TrieNode& node = trie[i];
    bool in_region = i < region_end_;
    if (in_region) {  // skip what the region accepted wholesale (and, if it may, what dies)
      int32_t next = region_skips_dead_ ? region_next_live[i] : region_next[i];
      if (next != i) {
        i = std::min(next, region_end_);
        continue;
      }
    }
    // Tokens whose first byte only a callee can read are left to the callee's
    // own entry: the callee's predicted thread is live whenever this one is, and
    // a mask is the union over live threads.
    if (!hooks_.Visit(i) || (node.depth == 1 && start_row[node.byte] == kNone)) {
      i = node.subtree_end;
      continue;
    }
    int32_t depth = node.depth;
    while (matcher_depth_.back() > depth - 1) {
      matcher_.Rollback(1);
      matcher_depth_.pop_back();
    }
    WalkResult result{false, kNoRepetition};
    const Item parent = dfa_thread[depth - 1];
    bool alive;
    StateId dfa_state = kNone;
    if (parent.state != kNone) {
      StateId entry = rows_.Row(parent.state)[node.byte];
      alive = entry != kNone;
      if (entry >= 0) {  // no call, no end that matters: the DFA step is the whole step
        dfa_state = entry;
        dfa_thread[depth] = Item{entry, parent.node, parent.guard};
        dfa_needed[depth] = dfa_needed[depth - 1];
        result = {(parent.guard & kEscapedBit) == 0, dfa_needed[depth]};
        ends_on_path[depth] = ends_on_path[depth - 1];
      } else if (alive && start_.flat_repeat_start != kNone && a_.is_final[TransitionRows::Decode(entry)]) {
        dfa_state = start_.flat_repeat_start;
        result = StepFlatRepeat(parent, depth);
      } else if (alive) {
        Item pushed{TransitionRows::Decode(entry), parent.node, parent.guard};
        if (suffix_of && suffix_of[i] == 1 && matcher_depth_.back() == 0) {
          ShareQuoteSuffixes(i, pushed, depth);
          i = node.subtree_end;
          continue;
        }
        alive = matcher_.PushThread(pushed);
        if (alive) result = AfterMatcherStep(depth);
      }
    } else {
      alive = matcher_.AdvanceByte(node.byte);
      if (alive) result = AfterMatcherStep(depth);
    }
    if (!alive) {
      hooks_.OnDead(i, ends_on_path[depth - 1] != 0);
      i = node.subtree_end;
      continue;
    }
    // The DFA state here: set by the DFA step above, or by entering DFA mode
    // after a matcher step (e.g. just after a call into a string-tail rule).
    if (dfa_state == kNone) dfa_state = dfa_thread[depth].state;
    bool counted_already = in_region && plain[i];
    if constexpr (Hooks::PlainRegions::value) {
      if (!in_region && plain[i] && result.valid_everywhere &&
          TryPlainRegion(i, node, dfa_state, parent.state, depth)) {
        counted_already = true;
      }
    }
    if constexpr (Hooks::LoopClasses::value) {
      if (!counted_already && !in_region && dfa_state != kNone && result.valid_everywhere &&
          node.subtree_end > i + 1 && LoopCoversSubtree(i, dfa_state)) {
        hooks_.OnLoopSubtree(i);
        if (node.token_begin < node.token_end) hooks_.OnTokens(i, result);
        i = node.subtree_end;
        continue;
      }
    }
    if (!counted_already && node.token_begin < node.token_end) hooks_.OnTokens(i, result);
    ++i;
  }
}

// An iteration of a flat repeated body ends (see FlatRepeatStart): what the
// matcher would do, without it. Iteration k after the origin's (k = 0: the
// origin's own) completes: the bytes fit in k + 1 iterations, the rule may end
// here when k = 0, and the thread goes on at the body's start as re-call
// k + 1, escaped (the caller decides further bytes).
template <typename Hooks>
WalkResult TrieWalker<Hooks>::StepFlatRepeat(const Item& parent, int32_t depth) {
  int32_t k = (parent.guard & kEscapedBit) ? dfa_needed_[depth - 1] - 1 : 0;
  dfa_thread_[depth] = Item{start_.flat_repeat_start, parent.node, parent.guard | kEscapedBit};
  dfa_needed_[depth] = k + 2;
  ends_on_path_[depth] = 1;
  return k == 0 ? WalkResult{true, kNoRepetition} : WalkResult{false, k + 1};
}

// The subtree of quote node `i` (the matcher has taken no step yet, the thread
// `pushed` is where the quote leads) gets the verdicts of its suffixes, walked
// once per distinct pushed thread (see SuffixVerdicts).
template <typename Hooks>
void TrieWalker<Hooks>::ShareQuoteSuffixes(int32_t i, const Item& pushed, int32_t depth) {
  const int32_t needed = dfa_needed_[depth - 1];
  const bool ended_before = ends_on_path_[depth - 1] != 0;
  const SuffixVerdicts* v = nullptr;
  for (const SuffixVerdicts& known : suffix_memo_) {
    if (known.pushed == pushed && known.needed == needed && known.ended_before == ended_before) {
      v = &known;
      break;
    }
  }
  if (!v) {
    suffix_memo_.push_back(SuffixVerdicts{pushed, needed, ended_before, {}, {}});
    WalkSuffixes(&suffix_memo_.back());
    v = &suffix_memo_.back();
  }
  const std::vector<TrieNode>& trie = tok_.trie();
  const int32_t* suffix_of = index_.quote_suffix_node().data();
  for (int32_t j = i, end = trie[i].subtree_end; j < end;) {
    int32_t s = suffix_of[j];
    if (v->verdict[s] != kSuffixLive) {
      hooks_.OnDead(j, v->verdict[s] == kSuffixCrossing);
      j = trie[j].subtree_end;
      continue;
    }
    if (trie[j].token_begin < trie[j].token_end) hooks_.OnTokens(j, v->result[s]);
    ++j;
  }
}

// Walks the suffix trie from the matcher's first step with the matcher alone
// (what the main walk does in DFA mode gives the same verdicts), then rolls back.
template <typename Hooks>
void TrieWalker<Hooks>::WalkSuffixes(SuffixVerdicts* v) {
  const std::vector<MaskWalkIndex::SuffixNode>& suffixes = index_.quote_suffix_trie();
  int32_t m = static_cast<int32_t>(suffixes.size());
  v->verdict.assign(m, kSuffixUnreached);
  v->result.assign(m, WalkResult{false, kNoRepetition});
  suffix_ends_.assign(max_depth_ + 1, 0);
  suffix_ends_[0] = v->ended_before;
  int32_t steps = 0;  // matcher steps taken: the depth of the path's last node
  for (int32_t j = 1; j < m;) {
    const MaskWalkIndex::SuffixNode& sn = suffixes[j];
    for (; steps > sn.depth - 1; --steps) matcher_.Rollback(1);
    bool ok = sn.depth == 1 ? matcher_.PushThread(v->pushed) : matcher_.AdvanceByte(sn.byte);
    if (!ok) {
      v->verdict[j] = suffix_ends_[sn.depth - 1] ? kSuffixCrossing : kSuffixDead;
      j = sn.subtree_end;
      continue;
    }
    ++steps;
    suffix_ends_[sn.depth] = suffix_ends_[sn.depth - 1] || StepEnds();
    v->verdict[j] = kSuffixLive;
    v->result[j] = StepResult();
    ++j;
  }
  for (; steps > 0; --steps) matcher_.Rollback(1);
}

// Starts a plain-text region at plain node `i` (valid everywhere) when its DFA
// state loops on plain text, or when it read a lead byte whose characters all
// end in such a loop (read in one, or in a key state where they leave the trie
// of names): the subtree's plain tokens finish their first character there, so
// the region can start here, not at each complete character below it.
template <typename Hooks>
bool TrieWalker<Hooks>::TryPlainRegion(int32_t i, const TrieNode& node, StateId dfa_state,
                                       StateId parent_state, int32_t depth) {
  int8_t loop = dfa_state != kNone ? hooks_.PlainLoop(dfa_state) : kNoPlainLoop;
  if (loop == kNoPlainLoop && node.byte >= 0xC2 && parent_state != kNone) {
    loop = hooks_.PlainAfterLead(parent_state, node.byte);
  }
  if (loop == kNoPlainLoop) return false;
  hooks_.OnPlainRegion(i);
  region_end_ = node.subtree_end;
  region_skips_dead_ = loop == kPlainLoopNoControl && !ends_on_path_[depth];
  return true;
}

// Whether the self-loops of `dfa_state` cover every byte below node `i`. The
// lead bytes cost a few thousand transitions per state: asked for only when a
// subtree passes the ASCII test and could pass this one.
template <typename Hooks>
bool TrieWalker<Hooks>::LoopCoversSubtree(int32_t i, StateId dfa_state) {
  LoopSet loop = hooks_.LoopClass(dfa_state, /*with_leads=*/false);
  const uint64_t* below_ascii = index_.below_ascii().data();
  if ((loop.ascii[0] | loop.ascii[1]) == 0 || (below_ascii[2 * i] & ~loop.ascii[0]) != 0 ||
      (below_ascii[2 * i + 1] & ~loop.ascii[1]) != 0) {
    return false;
  }
  if (!index_.below_non_ascii()[i]) return true;
  return index_.utf8_clean_below()[i] && (index_.below_leads()[i] & ~hooks_.LoopClass(dfa_state, true).leads) == 0;
}

// Walks the trie from `start` and reports to `hooks` (see WalkHooks).
template <typename Hooks>
void WalkTrie(const AutomatonPtr& automaton, const TransitionRows& rows, const TokenizerInfo& tok,
              const WalkStart& start, Hooks& hooks) {
  TrieWalker<Hooks>(automaton, rows, tok, start, hooks).Run();
}

// Whether `s` loops on every JSON string-content character (kPlainLoop or
// kPlainLoopNoControl), or not (kNoPlainLoop).
int8_t CheckPlainLoop(const Automaton& a, StateId s);

}  // namespace trie_walk
}  // namespace xgram

#endif  // XGRAM_TRIE_WALK_H_
