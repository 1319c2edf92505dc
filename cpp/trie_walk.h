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
#include "pushdown_matcher.h"
#include "tokenizer_info.h"

namespace xgram {
namespace trie_walk {

// Walks the trie from automaton state `state` with a classification matcher,
// calling `on_tokens(node, depth info)` for every reached trie node that holds
// tokens and `on_dead(node)` for every subtree that dies. `visit(i)` may prune
// subtrees up front. While the parse is one thread moving through states that
// neither call nor complete (StepsAsDfa, below) the walk follows plain DFA
// transitions; the matcher runs only where calls and completions are.
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
// token below that trie node is accepted wholesale (`on_plain`), and the walk
// only descends towards tokens holding a quote, a backslash or a control byte.
// This is what keeps a fresh "inside a string" state from costing a full trie walk.
// A PlainRegions policy has Loop(state), whether `state` is such a loop, and
// AfterLead(state, lead byte), whether every character of that lead byte read
// from `state` ends in one; both answer kNoPlainLoop, kPlainLoop, or
// kPlainLoopNoControl (no state on the way reads a control byte).
constexpr int8_t kNoPlainLoop = 0, kPlainLoop = 1, kPlainLoopNoControl = 2;
struct NoPlainRegions {
  int8_t Loop(StateId) const { return kNoPlainLoop; }
  int8_t AfterLead(StateId, uint8_t) const { return kNoPlainLoop; }
};

// Loop-class regions (with plain-text regions, Layer A only): when the walk
// reaches, inside the rule, a DFA state whose self-loops cover every byte
// below the trie node (see LoopSet), every token below it stays in that state
// and is accepted (`on_subtree`) without visiting the subtree: free text of a
// format or a pattern class (URIs, hostnames, identifiers).
//
// LoopSet is a state's self-loops: the ASCII bytes (two words: 0-63, 64-127),
// and the lead bytes whose every complete character leads back to it (bit
// b - 0xC0; a LoopClass callback fills them in only when asked `with_leads`).
struct LoopSet {
  std::array<uint64_t, 2> ascii{0, 0};
  uint64_t leads = 0;
};
struct NoLoopClass {
  LoopSet operator()(StateId, bool) const { return {}; }
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
// every character past ASCII enters the loop. Without this the walk started a
// region at each complete character below such a lead byte, and the first fill
// of a key position cost twice as much (callgrind: 1.79M -> 0.87M instructions).
struct PlainLeads {
  uint64_t leads = 0;
  int8_t kind = kNoPlainLoop;
};
PlainLeads LeadsIntoPlainLoops(const Automaton& a, StateId s, const std::function<int8_t(StateId)>& loops_plain);

// Dense transition rows for the walk's DFA mode. A state's byte edges are a
// sorted list of ranges, and the walk asks for one transition per trie node it
// visits (a first visit of a free-text state: over 100k of them), and a linear
// scan of a dozen ranges was 13% of a search-pattern walk's instructions, the
// simple-target test another 7% (callgrind). A row maps all
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
// steps). The subtree below each such quote was walked again with the matcher
// for each prefix (a string value's first fill: 190 quote nodes, 70% of its 3.3M
// instructions in the matcher, callgrind), though the vocabulary has only a few
// hundred distinct suffixes. So the suffix trie (TokenizerInfo::quote_suffix_trie)
// is walked once per pushed thread, and every quote subtree copies its verdicts
// (that first fill: 3.28M -> 0.60M instructions).
// What a walk decided for each suffix-trie node from one pushed thread:
constexpr int8_t kSuffixUnreached = 0, kSuffixLive = 1, kSuffixCrossing = 2, kSuffixDead = 3;
struct SuffixVerdicts {
  Item pushed;        // with the two below, the key: the walk's state at the quote
  int32_t needed;
  bool ended_before;
  std::vector<int8_t> verdict;     // per suffix-trie node (unreached below a dead one)
  std::vector<WalkResult> result;  // for live ones
};

template <typename Visit, typename OnTokens, typename OnDead, typename PlainRegions = NoPlainRegions,
          typename OnPlain = std::nullptr_t, typename LoopClass = NoLoopClass,
          typename OnSubtree = std::nullptr_t>
void WalkTrie(const AutomatonPtr& automaton, const TransitionRows& rows, const TokenizerInfo& tok,
              StateId state, bool escape, bool self_repeat, StateId flat_repeat_start,
              const CallerFrame* callers, int32_t num_callers,
              Visit visit, OnTokens on_tokens, OnDead on_dead, PlainRegions plain_regions = {},
              OnPlain on_plain = nullptr, LoopClass loop_class = {}, OnSubtree on_subtree = nullptr,
              bool share_quote_suffixes = false) {
  const Automaton& a = *automaton;
  // Raw pointers: the loop below runs once per visited trie node, and indexing
  // through the vectors reloaded their data pointers on every access.
  const TrieNode* trie = tok.trie().data();
  const uint8_t* plain = tok.trie_plain().data();
  const int32_t* region_next = tok.trie_region_next().data();
  const int32_t* region_next_live = tok.trie_region_next_live().data();
  const uint64_t* below_ascii = tok.trie_below_ascii().data();
  const uint8_t* below_non_ascii = tok.trie_below_non_ascii().data();
  const uint8_t* utf8_clean_below = tok.trie_utf8_clean_below().data();
  const uint64_t* below_leads = tok.trie_below_leads().data();
  int32_t region_end = -1;  // trie nodes below this index lie in a plain-text region
  // The region's dead tokens may be skipped too: control bytes kill them, and no
  // end of the rule on their path makes them crossing.
  bool region_skips_dead = false;
  PushdownMatcher matcher(automaton, /*max_rollback_steps=*/-1);
  if (num_callers > 0) {
    matcher.ResetForContext(state, callers, num_callers);
  } else {
    matcher.ResetForClassification(state, escape, self_repeat);
  }
  std::vector<int32_t> matcher_depth{0};  // trie depth of each matcher step
  // Per trie depth: the single DFA thread (state kNone when the matcher holds
  // the parse), the repetition count it needs, and whether the rule (or an
  // iteration of its repetition) could end at a depth <= d.
  const size_t max_depth = static_cast<size_t>(tok.max_token_bytes()) + 1;
  std::vector<Item> thread_store(max_depth, Item{kNone, kNone, 0});
  std::vector<int32_t> needed_store(max_depth, kNoRepetition);
  std::vector<uint8_t> ends_store(max_depth, 0);
  Item* dfa_thread = thread_store.data();
  int32_t* dfa_needed = needed_store.data();
  uint8_t* ends_on_path = ends_store.data();
  auto enter_dfa_mode = [&](int32_t depth) {
    Item single;
    if (matcher.SingleThread(&single) && StepsAsDfa(a, single.state)) {
      dfa_thread[depth] = single;
      dfa_needed[depth] = matcher.RepetitionNeeded(/*include_completed=*/false);
    } else {
      dfa_thread[depth].state = kNone;
    }
  };
  // What the matcher's last step decides for the bytes so far, and whether the
  // rule (or an iteration of its repetition) can end right there.
  auto step_result = [&] {
    WalkResult r{matcher.CanEnd() || matcher.HasInsideThreads(), kNoRepetition};
    if (!r.valid_everywhere) r.needed = matcher.RepetitionNeeded();
    return r;
  };
  // An end of the origin's rule that leads nowhere is not an end on the path
  // (see EndLeadsNowhere); CanEnd still makes a token that stops there valid.
  const bool ends_matter = !EndLeadsNowhere(a, a.state_rule[state]);
  auto step_ends = [&] { return (ends_matter && matcher.CanEnd()) || matcher.RepetitionCompletedHere(); };
  enter_dfa_mode(0);
  ends_on_path[0] = step_ends();
  // Bookkeeping once the matcher has taken the step for trie depth `depth`.
  auto after_matcher_step = [&](int32_t depth) {
    matcher_depth.push_back(depth);
    ends_on_path[depth] = ends_on_path[depth - 1] || step_ends();
    enter_dfa_mode(depth);
    return step_result();
  };
  const int32_t* suffix_of = share_quote_suffixes ? tok.quote_suffix_node().data() : nullptr;
  std::vector<SuffixVerdicts> suffix_memo;  // one per distinct pushed thread: usually one
  std::vector<uint8_t> suffix_ends(max_depth + 1, 0);
  // Walks the suffix trie from the matcher's first step with the matcher alone
  // (what the main walk does in DFA mode gives the same verdicts), then rolls back.
  auto walk_suffixes = [&](SuffixVerdicts* v) {
    const std::vector<TokenizerInfo::SuffixNode>& suffixes = tok.quote_suffix_trie();
    int32_t m = static_cast<int32_t>(suffixes.size());
    v->verdict.assign(m, kSuffixUnreached);
    v->result.assign(m, WalkResult{false, kNoRepetition});
    suffix_ends[0] = v->ended_before;
    int32_t steps = 0;  // matcher steps taken: the depth of the path's last node
    for (int32_t j = 1; j < m;) {
      const TokenizerInfo::SuffixNode& sn = suffixes[j];
      for (; steps > sn.depth - 1; --steps) matcher.Rollback(1);
      bool ok = sn.depth == 1 ? matcher.PushThread(v->pushed) : matcher.AdvanceByte(sn.byte);
      if (!ok) {
        v->verdict[j] = suffix_ends[sn.depth - 1] ? kSuffixCrossing : kSuffixDead;
        j = sn.subtree_end;
        continue;
      }
      ++steps;
      suffix_ends[sn.depth] = suffix_ends[sn.depth - 1] || step_ends();
      v->verdict[j] = kSuffixLive;
      v->result[j] = step_result();
      ++j;
    }
    for (; steps > 0; --steps) matcher.Rollback(1);
  };
  const StateId* start_row = rows.Row(state);
  for (int32_t i = 1, n = static_cast<int32_t>(tok.trie().size()); i < n;) {
    const TrieNode& node = trie[i];
    bool in_region = i < region_end;
    if (in_region) {  // skip what the region accepted wholesale (and, if it may, what dies)
      int32_t next = region_skips_dead ? region_next_live[i] : region_next[i];
      if (next != i) {
        i = std::min(next, region_end);
        continue;
      }
    }
    // Tokens whose first byte only a callee can read are left to the callee's
    // own entry: the callee's predicted thread is live whenever this one is, and
    // a mask is the union over live threads.
    if (!visit(i) || (node.depth == 1 && start_row[node.byte] == kNone)) {
      i = node.subtree_end;
      continue;
    }
    int32_t depth = node.depth;
    while (matcher_depth.back() > depth - 1) {
      matcher.Rollback(1);
      matcher_depth.pop_back();
    }
    WalkResult result{false, kNoRepetition};
    const Item parent = dfa_thread[depth - 1];
    bool alive;
    StateId dfa_state = kNone;
    if (parent.state != kNone) {
      StateId entry = rows.Row(parent.state)[node.byte];
      alive = entry != kNone;
      if (entry >= 0) {  // no call, no end that matters: the DFA step is the whole step
        dfa_state = entry;
        dfa_thread[depth] = Item{entry, parent.node, parent.guard};
        dfa_needed[depth] = dfa_needed[depth - 1];
        result = {(parent.guard & kEscapedBit) == 0, dfa_needed[depth]};
        ends_on_path[depth] = ends_on_path[depth - 1];
      } else if (alive && flat_repeat_start != kNone && a.is_final[TransitionRows::Decode(entry)]) {
        // An iteration of a flat repeated body ends (see FlatRepeatStart): what
        // the matcher would do, without it. Iteration k after the origin's (k = 0:
        // the origin's own) completes: the bytes fit in k + 1 iterations, the
        // rule may end here when k = 0, and the thread goes on at the body's
        // start as re-call k + 1, escaped (the caller decides further bytes).
        int32_t k = (parent.guard & kEscapedBit) ? dfa_needed[depth - 1] - 1 : 0;
        dfa_state = flat_repeat_start;
        dfa_thread[depth] = Item{flat_repeat_start, parent.node, parent.guard | kEscapedBit};
        dfa_needed[depth] = k + 2;
        result = k == 0 ? WalkResult{true, kNoRepetition} : WalkResult{false, k + 1};
        ends_on_path[depth] = 1;
      } else if (alive) {
        Item pushed{TransitionRows::Decode(entry), parent.node, parent.guard};
        if (suffix_of && suffix_of[i] == 1 && matcher_depth.back() == 0) {
          const SuffixVerdicts* v = nullptr;
          for (const SuffixVerdicts& known : suffix_memo) {
            if (known.pushed == pushed && known.needed == dfa_needed[depth - 1] &&
                known.ended_before == (ends_on_path[depth - 1] != 0)) {
              v = &known;
              break;
            }
          }
          if (!v) {
            suffix_memo.push_back(SuffixVerdicts{pushed, dfa_needed[depth - 1], ends_on_path[depth - 1] != 0, {}, {}});
            walk_suffixes(&suffix_memo.back());
            v = &suffix_memo.back();
          }
          for (int32_t j = i, end = node.subtree_end; j < end;) {
            int32_t s = suffix_of[j];
            if (v->verdict[s] != kSuffixLive) {
              on_dead(j, v->verdict[s] == kSuffixCrossing);
              j = trie[j].subtree_end;
              continue;
            }
            if (trie[j].token_begin < trie[j].token_end) on_tokens(j, v->result[s]);
            ++j;
          }
          i = node.subtree_end;
          continue;
        }
        alive = matcher.PushThread(pushed);
        if (alive) result = after_matcher_step(depth);
      }
    } else {
      alive = matcher.AdvanceByte(node.byte);
      if (alive) result = after_matcher_step(depth);
    }
    if (!alive) {
      on_dead(i, ends_on_path[depth - 1] != 0);
      i = node.subtree_end;
      continue;
    }
    bool counted_already = in_region && plain[i];
    if constexpr (!std::is_same_v<OnPlain, std::nullptr_t>) {
      // The DFA state here: set by the DFA step above, or by entering DFA mode
      // after a matcher step (e.g. just after a call into a string-tail rule).
      if (dfa_state == kNone) dfa_state = dfa_thread[depth].state;
      int8_t loop = kNoPlainLoop;
      if (!in_region && plain[i] && result.valid_everywhere) {
        if (dfa_state != kNone) loop = plain_regions.Loop(dfa_state);
        // A lead byte whose characters all end in a plain loop (read in one, or
        // in a key state where they leave the trie of names): the subtree's
        // plain tokens finish their first character there, so the region can
        // start here, not at each complete character below it.
        if (loop == kNoPlainLoop && node.byte >= 0xC2 && parent.state != kNone) {
          loop = plain_regions.AfterLead(parent.state, node.byte);
        }
      }
      if (loop != kNoPlainLoop) {
        on_plain(i);
        region_end = node.subtree_end;
        region_skips_dead = loop == kPlainLoopNoControl && !ends_on_path[depth];
        counted_already = true;
      }
    }
    if constexpr (!std::is_same_v<OnSubtree, std::nullptr_t>) {
      if (!counted_already && !in_region && dfa_state != kNone && result.valid_everywhere &&
          node.subtree_end > i + 1) {
        // The lead bytes cost a few thousand transitions per state: asked for
        // only when a subtree passes the ASCII test and could pass this one.
        LoopSet loop = loop_class(dfa_state, /*with_leads=*/false);
        if ((loop.ascii[0] | loop.ascii[1]) && (below_ascii[2 * i] & ~loop.ascii[0]) == 0 &&
            (below_ascii[2 * i + 1] & ~loop.ascii[1]) == 0 &&
            (!below_non_ascii[i] ||
             (utf8_clean_below[i] && (below_leads[i] & ~loop_class(dfa_state, true).leads) == 0))) {
          on_subtree(i);
          if (node.token_begin < node.token_end) on_tokens(i, result);
          i = node.subtree_end;
          continue;
        }
      }
    }
    if (!counted_already && node.token_begin < node.token_end) on_tokens(i, result);
    ++i;
  }
}

// Whether `s` loops on every JSON string-content character (kPlainLoop or
// kPlainLoopNoControl), or not (kNoPlainLoop).
int8_t CheckPlainLoop(const Automaton& a, StateId s);

}  // namespace trie_walk
}  // namespace xgram

#endif  // XGRAM_TRIE_WALK_H_
