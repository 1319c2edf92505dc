// GrammarMatcher: the token-level matcher of one generation.
//
// It wraps a PushdownMatcher (pushdown_matcher.h), which reads bytes, and adds
// what a decoding loop needs on top: tokens (ids read through the tokenizer's
// decoded vocabulary, stop tokens, tokens named by markers), rollback by whole
// tokens, jump-forward strings, and the next-token bitmask.
//
// FillNextTokenBitmask, the per-token hot path, in named steps:
//   1. ReuseLastMask: the mask depends only on the live threads and on whether
//      the root can end; inside a string or a number they often stay the same
//      from one token to the next, and then the last mask is copied.
//   2. GroupThreadsByState: the live threads, grouped by automaton state (and,
//      where the state's cache entry leaves tokens uncertain, by the thread's
//      known callers), so each group's mask is looked up once.
//   3. AddGroupMask: each group ORs in its cache entry's accepted tokens and
//      queues the tokens the entry could not decide as candidates: uncertain
//      ones (decided once per caller context by TokenMaskCache::GetInContext
//      where the callers are known) and counted ones that may not fit the live
//      repetition. Threads with a pending lookahead guard queue every token the
//      entry did not reject, since the cache assumes no lookahead.
//   4. CheckCandidates: the few candidates left are run through the live
//      matcher in trie order, so consecutive candidates share a prefix and the
//      matcher rolls back only to the common prefix.
//   5. Tokens named by markers and stop tokens are decided last (stop tokens
//      are allowed iff the root can end).
// All scratch buffers live in the matcher and are reused, so steady-state calls
// do not allocate.
#ifndef XGRAM_GRAMMAR_MATCHER_H_
#define XGRAM_GRAMMAR_MATCHER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "compiled_grammar.h"
#include "pushdown_matcher.h"
#include "token_mask_cache.h"
#include "tokenizer_info.h"

namespace xgram {

class GrammarMatcher {
 public:
  // Held by every outside call (the Python binding, a batch's row) for its
  // duration. A matcher serves one thread at a time; two threads calling it at
  // once is the caller's bug, and would corrupt its state: the second call
  // throws UsageError instead of racing. One atomic exchange per call.
  class ExclusiveUse {
   public:
    ExclusiveUse(const GrammarMatcher& matcher, const char* what) : ExclusiveUse(matcher.in_use_.held, what) {}
    // The same guard over another object's flag (the byte-level matcher's binding).
    ExclusiveUse(std::atomic<bool>& flag, const char* what) : flag_(flag) {
      if (flag_.exchange(true, std::memory_order_acquire)) RefuseConcurrentUse(what);
    }
    ~ExclusiveUse() { flag_.store(false, std::memory_order_release); }
    ExclusiveUse(const ExclusiveUse&) = delete;
    ExclusiveUse& operator=(const ExclusiveUse&) = delete;

   private:
    [[noreturn]] static void RefuseConcurrentUse(const char* what);
    std::atomic<bool>& flag_;
  };

  // Throws UsageError for a stop token outside the vocabulary.
  GrammarMatcher(CompiledGrammarPtr compiled, std::vector<int32_t> override_stop_tokens,
                 bool use_override, bool terminate_without_stop_token, int32_t max_rollback_tokens);

  bool AcceptToken(int32_t token_id);
  bool AcceptString(const std::string& bytes);
  // Writes the mask of allowed next tokens into `words` (int32 words, token i is bit
  // i%32 of word i/32). Returns false when every token is allowed.
  bool FillNextTokenBitmask(uint32_t* words, int64_t num_words);
  std::string FindJumpForwardString();
  // The length of the longest prefix of `ids` the matcher accepts (a stop token
  // ends it); the matcher is left as it was: the tokens are rolled back, or
  // accepted by a copy when the rollback window is bounded.
  int32_t ValidateTokens(const std::vector<int32_t>& ids);
  // Speculative decoding: one mask row per node of a draft tree (first child,
  // next sibling and token of each node; node 0's token is already accepted),
  // depth first. A node whose token its parent's row allows is accepted, its
  // row filled, its children visited, and rolled back; the row of a node whose
  // token is refused, or after which the matcher has terminated, is zeroed and
  // its children are left alone. Row r starts at `rows + r * row_stride` and
  // has `num_words` words. `filled[r]` is set for the rows filled. Stops
  // accepting nodes past `deadline_seconds` (<= 0: none) and returns false
  // then. The matcher is unchanged afterwards (a copy does the walk when the
  // rollback window is bounded). The tree is checked by the caller.
  bool TraverseDraftTree(const std::vector<int32_t>& first_child, const std::vector<int32_t>& next_sibling,
                         const std::vector<int32_t>& tokens, uint32_t* rows, int64_t row_stride,
                         int64_t num_words, double deadline_seconds, std::vector<uint8_t>* filled);
  // The chain form, for a linear draft: `draft.size() + 1` rows, row i the mask
  // after draft[0..i). The draft is accepted while each token is allowed by the
  // row before it; the rows past that are zeroed, as is the row after a stop
  // token. Returns how many draft tokens were allowed (ValidateTokens's answer);
  // the matcher is unchanged afterwards. Ids are checked here.
  int32_t TraverseDraftChain(const std::vector<int32_t>& draft, uint32_t* rows, int64_t row_stride,
                             int64_t num_words);
  void Rollback(int32_t num_tokens);
  void Reset();
  bool IsTerminated() const;
  bool IsCompleted() const { return matcher_.CanEnd(); }
  const std::vector<int32_t>& stop_token_ids() const { return stop_token_ids_; }
  int32_t NumRollbackableTokens() const { return static_cast<int32_t>(token_bytes_.size()); }
  const CompiledGrammarPtr& compiled() const { return compiled_; }
  // Work done by the last FillNextTokenBitmask: threads, distinct states, tokens
  // checked at run time (for benchmarks and tuning).
  struct FillStats {
    int64_t threads = 0;
    int64_t states = 0;
    int64_t candidates = 0;
  };
  const FillStats& last_fill_stats() const { return fill_stats_; }
  // How long the last fill took, as the caller measured it (the Python binding
  // keeps the GIL through fills that were quick last time). Starts "slow".
  int64_t last_fill_nanoseconds() const { return last_fill_nanoseconds_; }
  void set_last_fill_nanoseconds(int64_t ns) { last_fill_nanoseconds_ = ns; }

 private:
  // Threads of one automaton state (and one context of known callers) whose
  // masks FillNextTokenBitmask computes once.
  struct StateGroup {
    StateId key;  // the state, or -1 - state for threads with a pending lookahead guard
    const TokenMaskEntry* entry;
    uint64_t context;  // ContextKey of the callers with bit 0 set, or 0: none known or needed
    size_t frames_begin;  // the callers: context_frames_[frames_begin, frames_begin + num_frames)
    int32_t num_frames;
    // The most iterations left, over the group's threads, in the counted
    // repetition they are in (0 outside one): a token fits if it fits for any.
    int32_t remaining;
    bool guarded() const { return key < 0; }
  };

  void CheckUsable(const char* what) const;
  void RecordToken(int64_t num_bytes);
  // Accepts `ids` in order up to the first refused one (or past a stop token),
  // counting them in `*accepted` as it goes, so that a caller can roll them back
  // when a step throws.
  void AcceptPrefix(const std::vector<int32_t>& ids, int32_t* accepted);
  bool AdvanceMarker(int32_t token_id);
  int64_t CheckBitmaskWords(int64_t num_words) const;

  // The steps of FillNextTokenBitmask, in order.
  bool ReuseLastMask(uint32_t* words, int64_t num_words, int64_t needed);
  void GroupThreadsByState();
  uint64_t FindKnownCallers(StateId state, NodeId node, int32_t* num_frames);
  void AddGroupMask(const StateGroup& group, uint32_t* words, int64_t needed);
  void AddCountedTokens(const TokenMaskEntry& entry, int32_t remaining, bool guarded, uint32_t* words,
                        int64_t needed);
  void AddAcceptedTokens(const TokenMaskEntry& entry, uint32_t* words, int64_t needed);
  void AddGuardedCandidates(const TokenMaskEntry& entry, StateId state);
  void AddUncertainTokens(const StateGroup& group, uint32_t* words);
  void AddCandidate(int32_t id);
  void CheckCandidates(uint32_t* words);
  // TraverseDraftTree's arguments, for its walk.
  struct DraftTree {
    const std::vector<int32_t>& first_child;
    const std::vector<int32_t>& next_sibling;
    const std::vector<int32_t>& tokens;
    uint32_t* rows;
    int64_t row_stride;
    int64_t num_words;
    bool timed;
    std::chrono::steady_clock::time_point deadline;
  };
  bool WalkDraftTree(const DraftTree& tree, std::vector<uint8_t>* filled, int32_t* accepted);
  void WalkDraftChain(const std::vector<int32_t>& draft, uint32_t* rows, int64_t row_stride, int64_t num_words,
                      int32_t* accepted);
  template <typename Walk>
  auto WalkAndRestore(Walk walk);
  void CheckTokenIds(const std::vector<int32_t>& ids, const char* name) const;
  void DecideMarkedTokens(uint32_t* words);
  bool AllowsWholeVocabulary(const uint32_t* words) const;
  void RememberMask(const uint32_t* words, int64_t needed, bool need_apply);

  // Steps of FindJumpForwardString.
  int ForcedNextByte() const;

  CompiledGrammarPtr compiled_;
  const TokenizerInfo* tokenizer_;
  PushdownMatcher matcher_;
  std::vector<int32_t> stop_token_ids_;
  std::vector<uint8_t> is_stop_;
  bool terminate_without_stop_token_;
  int32_t max_rollback_tokens_;
  bool terminated_ = false;
  std::deque<int64_t> token_bytes_;  // bytes each kept token consumed (0 for a stop token)

  // Scratch for FillNextTokenBitmask.
  std::vector<StateGroup> groups_;
  std::vector<CallerFrame> context_frames_;  // the groups' known callers, back to back
  // Uncertain tokens are re-decided knowing the thread's callers this many
  // calls up, through at most this many parent edges. A thread whose own call
  // has more parents than that has no known callers, and its uncertain tokens
  // fall back to Layer B over every call site of its rule, which for a rule
  // called from thousands of places (JSON whitespace) is the slowest fill of
  // all. A whitespace call shared by the continuations of many objects in a
  // list (a large schema's arrays of objects) has dozens of parents, hence the
  // generous edge budget; the masks are the same with any budget.
  static constexpr int32_t kContextDepth = 3;
  static constexpr int32_t kContextEdges = 32;
  CallerFrame chain_[kContextEdges];
  std::vector<int32_t> candidates_;
  std::vector<uint32_t> candidate_seen_;  // bit per token: already in candidates_
  std::vector<uint32_t> scratch_words_;
  FillStats fill_stats_;
  int64_t last_fill_nanoseconds_ = INT64_MAX;  // unknown before the first fill: "slow"
  // The last mask and the threads it was computed for (ReuseLastMask).
  std::vector<uint64_t> memo_key_;
  std::vector<uint64_t> current_key_;
  std::vector<uint32_t> memo_words_;
  bool memo_need_apply_ = true;

  // ExclusiveUse's flag; a copy (fork) starts free.
  struct InUseFlag {
    mutable std::atomic<bool> held{false};
    InUseFlag() = default;
    InUseFlag(const InUseFlag&) {}
    InUseFlag& operator=(const InUseFlag&) { return *this; }
  };
  InUseFlag in_use_;
};

}  // namespace xgram

#endif  // XGRAM_GRAMMAR_MATCHER_H_
