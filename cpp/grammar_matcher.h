// Token-level matching: a compiled grammar (automaton + token-mask cache) and the
// GrammarMatcher that accepts tokens and fills next-token bitmasks.
//
// FillNextTokenBitmask, the per-token hot path:
//   1. For each distinct automaton state among the matcher's live threads, take
//      its cache entry and OR its accepted tokens into the mask.
//   2. Decide the entries' uncertain tokens for each thread's known callers
//      (TokenMaskCache::GetInContext, computed once per context); check the few
//      left against the live matcher, in trie order: consecutive candidates
//      share a prefix, so the walk rolls back only to the common prefix.
//   3. Threads with a pending lookahead guard are checked token by token instead
//      (the cache assumes none); stop tokens are allowed iff the root can end.
// All scratch buffers live in the matcher and are reused, so steady-state calls
// do not allocate.
#ifndef XGRAM_GRAMMAR_MATCHER_H_
#define XGRAM_GRAMMAR_MATCHER_H_

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "grammar_handle.h"
#include "pushdown_matcher.h"
#include "token_mask_cache.h"
#include "tokenizer_info.h"

namespace xgram {

class CompiledGrammar {
 public:
  CompiledGrammar(GrammarHandlePtr grammar, TokenizerInfoPtr tokenizer);
  const GrammarHandlePtr& grammar() const { return grammar_; }
  const TokenizerInfoPtr& tokenizer() const { return tokenizer_; }
  const AutomatonPtr& automaton() const { return automaton_; }
  TokenMaskCache& cache() const { return *cache_; }
  size_t MemoryBytes() const;
  // Tokens the grammar names with `Token(id)` (token_marker.h), sorted; each is
  // matched by its marker, never as text, by this grammar's matchers.
  const std::vector<int32_t>& marked_tokens() const { return marked_tokens_; }
  bool IsMarked(int32_t id) const {
    return !marked_tokens_.empty() && std::binary_search(marked_tokens_.begin(), marked_tokens_.end(), id);
  }

 private:
  void CollectMarkedTokens();

  GrammarHandlePtr grammar_;
  TokenizerInfoPtr tokenizer_;
  AutomatonPtr automaton_;
  std::unique_ptr<TokenMaskCache> cache_;
  std::vector<int32_t> marked_tokens_;
};

using CompiledGrammarPtr = std::shared_ptr<const CompiledGrammar>;

class GrammarMatcher {
 public:
  GrammarMatcher(CompiledGrammarPtr compiled, std::vector<int32_t> override_stop_tokens,
                 bool use_override, bool terminate_without_stop_token, int32_t max_rollback_tokens);

  bool AcceptToken(int32_t token_id);
  bool AcceptString(const std::string& bytes);
  // Writes the mask of allowed next tokens into `words` (int32 words, token i is bit
  // i%32 of word i/32). Returns false when every token is allowed.
  bool FillNextTokenBitmask(uint32_t* words, int64_t num_words);
  std::string FindJumpForwardString();
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

 private:
  void CheckUsable(const char* what) const;
  void RecordToken(int64_t num_bytes);
  void CheckCandidates(uint32_t* words);
  void DecideMarkedTokens(uint32_t* words);
  bool AdvanceMarker(int32_t token_id);

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
  std::vector<StateId> states_;
  std::vector<const TokenMaskEntry*> state_entries_;
  // Per states_ entry: a hash of the thread's known callers (0: none, or its
  // entry has no uncertain token) and those callers (PushdownMatcher::KnownCallers),
  // context_frames_[context_begin_[i], context_begin_[i + 1]).
  std::vector<uint64_t> contexts_;
  std::vector<size_t> context_begin_;
  std::vector<CallerFrame> context_frames_;
  // Uncertain tokens are re-decided knowing the thread's callers this many
  // calls up, through at most this many parent edges. With 4 edges, a
  // whitespace call shared by five object continuations fell back to Layer B
  // over every call site; with 8, a Kubernetes pod spec (MaskBench kb_684, the
  // token after a container list) still did: 28 threads, 47 ms for one fill.
  // With 32 that fill is 1.5 ms, and over the sample's instances the mask mean
  // falls about 9% and p99.9 about 10% (p99 unchanged), masks identical.
  static constexpr int32_t kContextDepth = 3;
  static constexpr int32_t kContextEdges = 32;
  CallerFrame chain_[kContextEdges];
  std::vector<int32_t> remaining_;
  std::vector<int32_t> candidates_;
  std::vector<uint32_t> candidate_seen_;
  std::vector<uint32_t> scratch_words_;
  FillStats fill_stats_;
  // The last mask and the threads it was computed for: inside a string or a
  // number the threads often do not change from one token to the next.
  std::vector<uint64_t> memo_key_;
  std::vector<uint64_t> current_key_;
  std::vector<uint32_t> memo_words_;
  bool memo_need_apply_ = true;
};

// Sets logits of disallowed tokens to -inf. `dtype`: 0 float32, 1 float16,
// 2 bfloat16. Rows `indices[i]` (or i) of logits use bitmask row `indices[i]`.
void ApplyTokenBitmask(void* logits, int dtype, int64_t num_rows, int64_t logits_row_stride,
                       int64_t num_columns, const int32_t* bitmask, int64_t bitmask_row_stride,
                       const int32_t* indices, int64_t num_indices);

}  // namespace xgram

#endif  // XGRAM_GRAMMAR_MATCHER_H_
