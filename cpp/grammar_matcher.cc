// CompiledGrammar, GrammarMatcher and the CPU bitmask kernel (see grammar_matcher.h).
#include "grammar_matcher.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "errors.h"
#include "token_marker.h"

namespace xgram {

CompiledGrammar::CompiledGrammar(GrammarHandlePtr grammar, TokenizerInfoPtr tokenizer)
    : grammar_(std::move(grammar)),
      tokenizer_(std::move(tokenizer)),
      automaton_(grammar_->automaton()),
      cache_(std::make_unique<TokenMaskCache>(automaton_, tokenizer_)) {
  CollectMarkedTokens();
}

void CompiledGrammar::CollectMarkedTokens() {
  for (const Expr& e : grammar_->grammar().exprs) {
    if (e.kind != ExprKind::kBytes) continue;
    for (size_t pos = e.bytes.find(static_cast<char>(kTokenMarkerLead)); pos != std::string::npos;
         pos = e.bytes.find(static_cast<char>(kTokenMarkerLead), pos + 1)) {
      int32_t id = ReadTokenMarker(e.bytes, pos);
      if (id < 0) continue;
      if (id >= tokenizer_->vocab_size()) {
        throw UsageError("Token(" + std::to_string(id) + ") is out of range for a vocabulary of " +
                         std::to_string(tokenizer_->vocab_size()) + " tokens");
      }
      marked_tokens_.push_back(id);
    }
  }
  std::sort(marked_tokens_.begin(), marked_tokens_.end());
  marked_tokens_.erase(std::unique(marked_tokens_.begin(), marked_tokens_.end()), marked_tokens_.end());
}

size_t CompiledGrammar::MemoryBytes() const {
  const Automaton& a = *automaton_;
  size_t automaton_bytes = a.byte_edges.size() * sizeof(ByteEdge) +
                           a.call_edges.size() * sizeof(CallEdge) + a.is_final.size() * 13 +
                           a.lookahead_edges.size() * sizeof(ByteEdge);
  return sizeof(*this) + automaton_bytes + cache_->MemoryBytes();
}

GrammarMatcher::GrammarMatcher(CompiledGrammarPtr compiled, std::vector<int32_t> override_stop_tokens,
                               bool use_override, bool terminate_without_stop_token,
                               int32_t max_rollback_tokens)
    : compiled_(std::move(compiled)),
      tokenizer_(compiled_->tokenizer().get()),
      matcher_(compiled_->automaton(), /*max_rollback_steps=*/-1),
      terminate_without_stop_token_(terminate_without_stop_token),
      max_rollback_tokens_(max_rollback_tokens) {
  int32_t vocab = tokenizer_->vocab_size();
  stop_token_ids_ = use_override ? std::move(override_stop_tokens) : tokenizer_->stop_token_ids();
  is_stop_.assign(vocab, 0);
  for (int32_t id : stop_token_ids_) {
    if (id < 0 || id >= vocab) {
      throw UsageError("stop token id " + std::to_string(id) + " is out of range [0, " +
                       std::to_string(vocab) + ")");
    }
    is_stop_[id] = 1;
  }
  candidate_seen_.assign((vocab + 31) / 32, 0);
}

void GrammarMatcher::CheckUsable(const char* what) const {
  if (terminated_) {
    throw UsageError(std::string(what) +
                     " called after the matcher terminated (it accepted a stop token); "
                     "call reset() or rollback() first");
  }
}

bool GrammarMatcher::IsTerminated() const {
  return terminated_ || (terminate_without_stop_token_ && matcher_.CanEnd());
}

void GrammarMatcher::RecordToken(int64_t num_bytes) {
  token_bytes_.push_back(num_bytes);
  if (max_rollback_tokens_ >= 0 && static_cast<int64_t>(token_bytes_.size()) > max_rollback_tokens_) {
    matcher_.ForgetOldestSteps(token_bytes_.front());
    token_bytes_.pop_front();
  }
}

bool GrammarMatcher::AcceptToken(int32_t token_id) {
  CheckUsable("accept_token");
  int32_t vocab = tokenizer_->vocab_size();
  if (token_id < 0 || token_id >= vocab) {
    throw UsageError("token id " + std::to_string(token_id) + " is out of range [0, " +
                     std::to_string(vocab) + ")");
  }
  if (is_stop_[token_id]) {
    if (!matcher_.CanEnd()) return false;
    terminated_ = true;
    RecordToken(0);
    return true;
  }
  if (compiled_->IsMarked(token_id)) return AdvanceMarker(token_id);
  if (tokenizer_->IsSpecial(token_id)) return false;
  const std::string& bytes = tokenizer_->decoded_vocab()[token_id];
  if (!matcher_.AdvanceBytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())) {
    return false;
  }
  RecordToken(static_cast<int64_t>(bytes.size()));
  return true;
}

bool GrammarMatcher::AcceptString(const std::string& bytes) {
  CheckUsable("accept_string");
  if (!matcher_.AdvanceBytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())) {
    return false;
  }
  RecordToken(static_cast<int64_t>(bytes.size()));
  return true;
}

void GrammarMatcher::Rollback(int32_t num_tokens) {
  if (num_tokens < 0 || num_tokens > NumRollbackableTokens()) {
    throw UsageError("cannot roll back " + std::to_string(num_tokens) + " tokens: " +
                     std::to_string(NumRollbackableTokens()) + " can be rolled back");
  }
  if (num_tokens > 0) terminated_ = false;  // a stop token is always the last one
  int64_t bytes = 0;
  for (int32_t i = 0; i < num_tokens; ++i) {
    bytes += token_bytes_.back();
    token_bytes_.pop_back();
  }
  matcher_.Rollback(bytes);
}

void GrammarMatcher::Reset() {
  matcher_.Reset();
  token_bytes_.clear();
  terminated_ = false;
}

bool GrammarMatcher::FillNextTokenBitmask(uint32_t* words, int64_t num_words) {
  CheckUsable("fill_next_token_bitmask");
  const TokenizerInfo& tok = *tokenizer_;
  int32_t vocab = tok.vocab_size();
  int64_t needed = (vocab + 31) / 32;
  if (num_words < needed) {
    throw UsageError("bitmask row has " + std::to_string(num_words) + " words; " +
                     std::to_string(needed) + " are needed for a vocabulary of " +
                     std::to_string(vocab));
  }
  // The mask is a function of the live threads (state, stack content, guard)
  // and of whether the root can end: reuse the last one when they are the same.
  current_key_.clear();
  current_key_.push_back(matcher_.CanEnd());
  for (const Item* it = matcher_.CurrentItemsBegin(); it != matcher_.CurrentItemsEnd(); ++it) {
    current_key_.push_back((uint64_t(uint32_t(it->state)) << 32) | uint32_t(it->guard));
    current_key_.push_back(matcher_.NodeSerial(it->node));
  }
  if (current_key_ == memo_key_) {
    std::memcpy(words, memo_words_.data(), sizeof(uint32_t) * needed);
    if (num_words > needed) std::memset(words + needed, 0, sizeof(uint32_t) * (num_words - needed));
    fill_stats_ = FillStats{static_cast<int64_t>(matcher_.NumCurrentItems()), 0, 0};
    return memo_need_apply_;
  }
  std::memset(words, 0, sizeof(uint32_t) * num_words);
  TokenMaskCache& cache = compiled_->cache();
  const std::vector<int32_t>& trie_tokens = tok.trie_token_ids();

  states_.clear();
  state_entries_.clear();
  contexts_.clear();
  context_begin_.clear();
  context_frames_.clear();
  candidates_.clear();
  auto add_candidate = [this](int32_t id) {
    uint32_t bit = 1u << (id & 31);
    if (!(candidate_seen_[id >> 5] & bit)) {
      candidate_seen_[id >> 5] |= bit;
      candidates_.push_back(id);
    }
  };
  remaining_.clear();
  for (const Item* it = matcher_.CurrentItemsBegin(); it != matcher_.CurrentItemsEnd(); ++it) {
    bool guarded = (it->guard & kGuardMask) != 0;
    StateId state = it->state;
    // Guarded threads are rare; mark them by negating the state.
    StateId key = guarded ? -1 - state : state;
    const TokenMaskEntry& entry = cache.Get(state);
    // The thread's known callers, when the entry has uncertain tokens: they are
    // mostly decided once for them (Layer C, TokenMaskCache::GetInContext).
    uint64_t context = 0;  // 0: no known caller, or none needed
    int32_t levels = 0;
    if (!guarded && !entry.uncertain.empty()) {
      levels = matcher_.KnownCallers(it->node, kContextDepth, kContextEdges, tok.max_token_bytes(), chain_);
      if (levels > 0) context = TokenMaskCache::ContextKey(state, chain_, levels) | 1;
    }
    size_t found = 0;
    while (found < states_.size() && (states_[found] != key || contexts_[found] != context)) ++found;
    // Iterations left in the counted repetition this thread is in, if any: a
    // token fits if it fits for any thread.
    int32_t remaining = compiled_->automaton()->rules[compiled_->automaton()->state_rule[state]].is_helper
                            ? matcher_.RemainingIterations(it->node)
                            : 0;
    if (found == states_.size()) {
      states_.push_back(key);
      state_entries_.push_back(&entry);
      contexts_.push_back(context);
      context_begin_.push_back(context_frames_.size());
      context_frames_.insert(context_frames_.end(), chain_, chain_ + levels);
      remaining_.push_back(remaining);
    } else {
      int32_t& r = remaining_[found];
      r = std::max(r, remaining);
    }
  }
  context_begin_.push_back(context_frames_.size());
  for (size_t si = 0; si < states_.size(); ++si) {
    StateId key = states_[si];
    bool guarded = key < 0;
    const TokenMaskEntry& entry = *state_entries_[si];
    int32_t remaining = guarded ? 0 : remaining_[si];
    // Counted tokens: allowed when the repetition has room, checked otherwise.
    size_t cut = std::upper_bound(entry.counted_needed.begin(), entry.counted_needed.end(), remaining) -
                 entry.counted_needed.begin();
    if (cut > 0 && !entry.counted_prefix_bitsets.empty()) {
      const std::vector<uint32_t>& fits =
          entry.counted_prefix_bitsets[std::min<size_t>(entry.counted_needed[cut - 1],
                                                        entry.counted_prefix_bitsets.size()) - 1];
      for (int64_t w = 0; w < needed; ++w) words[w] |= fits[w];
    } else {
      for (size_t i = 0; i < cut; ++i) words[entry.counted[i] >> 5] |= 1u << (entry.counted[i] & 31);
    }
    bool all_may_exit = guarded || entry.counted_may_exit.empty();
    for (size_t i = cut; i < entry.counted.size(); ++i) {
      if (all_may_exit || entry.counted_may_exit[i]) add_candidate(entry.counted[i]);
    }
    if (guarded) {
      // The entry assumed no pending lookahead: every token it did not reject
      // must be checked against the live matcher.
      if (entry.storage == TokenMaskEntry::Storage::kAcceptedList) {
        for (int32_t id : entry.tokens) add_candidate(id);
      } else if (entry.storage == TokenMaskEntry::Storage::kAcceptedBitset) {
        for (int32_t id : trie_tokens) {
          if (entry.bitset[id >> 5] & (1u << (id & 31))) add_candidate(id);
        }
      } else {
        for (int32_t id : trie_tokens) {
          if (!std::binary_search(entry.tokens.begin(), entry.tokens.end(), id)) add_candidate(id);
        }
      }
      const std::vector<int32_t>& crossing = entry.escape_deferred ? cache.GetEscaped(-1 - key) : entry.uncertain;
      for (int32_t id : crossing) add_candidate(id);
      continue;
    }
    switch (entry.storage) {
      case TokenMaskEntry::Storage::kAcceptedList:
        for (int32_t id : entry.tokens) words[id >> 5] |= 1u << (id & 31);
        break;
      case TokenMaskEntry::Storage::kAcceptedBitset:
        for (int64_t w = 0; w < needed; ++w) words[w] |= entry.bitset[w];
        break;
      case TokenMaskEntry::Storage::kRejectedList: {
        // Accepted = text tokens - rejected - uncertain - counted.
        scratch_words_ = tok.text_token_bits();  // same size: no allocation after the first
        for (int32_t id : entry.tokens) scratch_words_[id >> 5] &= ~(1u << (id & 31));
        for (int32_t id : entry.uncertain) scratch_words_[id >> 5] &= ~(1u << (id & 31));
        for (int32_t id : entry.counted) scratch_words_[id >> 5] &= ~(1u << (id & 31));
        for (int64_t w = 0; w < needed; ++w) words[w] |= scratch_words_[w];
        break;
      }
    }
    if (contexts_[si] != 0) {
      const CallerFrame* frames = context_frames_.data() + context_begin_[si];
      int32_t levels = static_cast<int32_t>(context_begin_[si + 1] - context_begin_[si]);
      const ContextMaskEntry& in_context = cache.GetInContext(key, frames, levels, contexts_[si]);
      for (int32_t id : in_context.accepted) words[id >> 5] |= 1u << (id & 31);
      for (int32_t id : in_context.uncertain) add_candidate(id);
    } else {
      const std::vector<int32_t>& crossing = entry.escape_deferred ? cache.GetEscaped(key) : entry.uncertain;
      for (int32_t id : crossing) add_candidate(id);
    }
  }
  // The dedup bits must be clear for the next call before the list is filtered.
  for (int32_t id : candidates_) candidate_seen_[id >> 5] &= ~(1u << (id & 31));
  CheckCandidates(words);
  if (!compiled_->marked_tokens().empty()) DecideMarkedTokens(words);
  fill_stats_.threads = static_cast<int64_t>(matcher_.NumCurrentItems());
  fill_stats_.states = static_cast<int64_t>(states_.size());
  fill_stats_.candidates = static_cast<int64_t>(candidates_.size());

  if (matcher_.CanEnd()) {
    for (int32_t id : stop_token_ids_) words[id >> 5] |= 1u << (id & 31);
  }
  // The mask needs applying unless every id of the vocabulary is allowed.
  bool need_apply = false;
  for (int32_t id = 0; id < vocab && !need_apply; id += 32) {
    uint32_t full = (vocab - id >= 32) ? 0xFFFFFFFFu : ((1u << (vocab - id)) - 1);
    need_apply = (words[id >> 5] & full) != full;
  }
  memo_key_.swap(current_key_);
  memo_words_.assign(words, words + needed);
  memo_need_apply_ = need_apply;
  return need_apply;
}

void GrammarMatcher::CheckCandidates(uint32_t* words) {
  const std::vector<int32_t>& node_of = tokenizer_->token_node();
  // Drop candidates another thread already accepted, then visit in trie order.
  candidates_.erase(std::remove_if(candidates_.begin(), candidates_.end(),
                                   [words](int32_t id) { return words[id >> 5] & (1u << (id & 31)); }),
                    candidates_.end());
  std::sort(candidates_.begin(), candidates_.end(),
            [&node_of](int32_t a, int32_t b) { return node_of[a] < node_of[b]; });
  const std::vector<std::string>& vocab = tokenizer_->decoded_vocab();
  const std::string* path = nullptr;  // bytes currently advanced: a prefix of *path
  size_t depth = 0;
  size_t failed_at = std::string::npos;  // depth whose byte failed on the current path
  for (int32_t id : candidates_) {
    const std::string& bytes = vocab[id];
    size_t common = 0;
    if (path) {
      size_t limit = std::min({depth, bytes.size(), path->size()});
      while (common < limit && (*path)[common] == bytes[common]) ++common;
    }
    // A known-bad prefix rejects this candidate without touching the matcher.
    if (failed_at != std::string::npos && path && failed_at <= common && common == depth &&
        bytes.size() > failed_at && (*path)[failed_at] == bytes[failed_at]) {
      continue;
    }
    if (depth > common) {
      matcher_.Rollback(static_cast<int64_t>(depth - common));
      depth = common;
    }
    path = &bytes;
    failed_at = std::string::npos;
    bool ok = true;
    while (depth < bytes.size()) {
      if (!matcher_.AdvanceByte(static_cast<uint8_t>(bytes[depth]))) {
        ok = false;
        failed_at = depth;
        break;
      }
      ++depth;
    }
    if (ok) words[id >> 5] |= 1u << (id & 31);
  }
  if (depth > 0) matcher_.Rollback(static_cast<int64_t>(depth));
}

bool GrammarMatcher::AdvanceMarker(int32_t token_id) {
  std::string marker = TokenMarker(token_id);
  if (!matcher_.AdvanceBytes(reinterpret_cast<const uint8_t*>(marker.data()), marker.size())) return false;
  RecordToken(static_cast<int64_t>(marker.size()));
  return true;
}

// A token the grammar names with Token(id) is allowed exactly when its marker can
// be read next; its text, if it has any, does not count in this grammar.
void GrammarMatcher::DecideMarkedTokens(uint32_t* words) {
  for (int32_t id : compiled_->marked_tokens()) {
    words[id >> 5] &= ~(1u << (id & 31));
    std::string marker = TokenMarker(id);
    size_t read = 0;
    while (read < marker.size() && matcher_.AdvanceByte(static_cast<uint8_t>(marker[read]))) ++read;
    if (read > 0) matcher_.Rollback(static_cast<int64_t>(read));
    if (read == marker.size()) words[id >> 5] |= 1u << (id & 31);
  }
}

std::string GrammarMatcher::FindJumpForwardString() {
  CheckUsable("find_jump_forward_string");
  const Automaton& a = matcher_.automaton();
  std::string out;
  while (out.size() < 65536 && !matcher_.CanEnd()) {
    int forced = -1;
    bool unique = true;
    for (const Item* it = matcher_.CurrentItemsBegin(); it != matcher_.CurrentItemsEnd() && unique; ++it) {
      for (int32_t e = a.byte_edge_begin[it->state]; e < a.byte_edge_begin[it->state + 1]; ++e) {
        const ByteEdge& edge = a.byte_edges[e];
        if (edge.lo != edge.hi || (forced >= 0 && forced != edge.lo)) {
          unique = false;
          break;
        }
        forced = edge.lo;
      }
    }
    // A token marker is no text: jump-forward stops before it.
    if (!unique || forced < 0 || forced == kTokenMarkerLead) break;
    if (!matcher_.AdvanceByte(static_cast<uint8_t>(forced))) break;
    out.push_back(static_cast<char>(forced));
  }
  if (!out.empty()) matcher_.Rollback(static_cast<int64_t>(out.size()));
  // Do not end inside a UTF-8 sequence.
  size_t cut = out.size();
  size_t i = out.size();
  while (i > 0 && (static_cast<uint8_t>(out[i - 1]) & 0xC0) == 0x80) --i;
  if (i > 0) {
    uint8_t lead = static_cast<uint8_t>(out[i - 1]);
    size_t need = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : 4;
    if (out.size() - (i - 1) < need) cut = i - 1;
  }
  out.resize(cut);
  return out;
}

namespace {

template <typename T>
void MaskRows(T* logits, T neg_inf, int64_t num_rows, int64_t row_stride, int64_t num_columns,
              const int32_t* bitmask, int64_t bitmask_row_stride, const int32_t* indices,
              int64_t num_indices) {
  int64_t rows = indices ? num_indices : num_rows;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t row = indices ? indices[r] : r;
    T* out = logits + row * row_stride;
    const uint32_t* mask = reinterpret_cast<const uint32_t*>(bitmask + row * bitmask_row_stride);
    for (int64_t base = 0; base < num_columns; base += 32) {
      uint32_t word = mask[base >> 5];
      if (word == 0xFFFFFFFFu) continue;
      int64_t limit = std::min<int64_t>(32, num_columns - base);
      if (word == 0) {
        for (int64_t j = 0; j < limit; ++j) out[base + j] = neg_inf;
        continue;
      }
      uint32_t blocked = ~word;
      while (blocked) {
        int j = __builtin_ctz(blocked);
        if (j >= limit) break;
        out[base + j] = neg_inf;
        blocked &= blocked - 1;
      }
    }
  }
}

}  // namespace

void ApplyTokenBitmask(void* logits, int dtype, int64_t num_rows, int64_t logits_row_stride,
                       int64_t num_columns, const int32_t* bitmask, int64_t bitmask_row_stride,
                       const int32_t* indices, int64_t num_indices) {
  for (int64_t i = 0; indices && i < num_indices; ++i) {
    if (indices[i] < 0 || indices[i] >= num_rows) {
      throw UsageError("index " + std::to_string(indices[i]) + " is out of range for " +
                       std::to_string(num_rows) + " rows");
    }
  }
  switch (dtype) {
    case 0:
      MaskRows(static_cast<float*>(logits), -std::numeric_limits<float>::infinity(), num_rows,
               logits_row_stride, num_columns, bitmask, bitmask_row_stride, indices, num_indices);
      break;
    case 1:  // float16: -inf is 0xFC00
      MaskRows(static_cast<uint16_t*>(logits), static_cast<uint16_t>(0xFC00), num_rows,
               logits_row_stride, num_columns, bitmask, bitmask_row_stride, indices, num_indices);
      break;
    case 2:  // bfloat16: -inf is 0xFF80
      MaskRows(static_cast<uint16_t*>(logits), static_cast<uint16_t>(0xFF80), num_rows,
               logits_row_stride, num_columns, bitmask, bitmask_row_stride, indices, num_indices);
      break;
    default:
      throw UsageError("unsupported logits dtype code " + std::to_string(dtype));
  }
}

}  // namespace xgram
