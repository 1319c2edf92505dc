// GrammarMatcher (see grammar_matcher.h): token acceptance, rollback,
// jump-forward strings and the next-token bitmask.
#include "grammar_matcher.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "errors.h"
#include "token_marker.h"

namespace xgram {
namespace {

// A fill probes many candidates: their steps share one work budget
// (pushdown_matcher.h), for the duration of the scope.
class CallWorkBudget {
 public:
  CallWorkBudget(PushdownMatcher* matcher, const char* what) : matcher_(matcher) {
    matcher_->SetCallWorkBudget(DefaultFillWorkLimit(), what);
  }
  ~CallWorkBudget() { matcher_->ClearCallWorkBudget(); }
  CallWorkBudget(const CallWorkBudget&) = delete;
  CallWorkBudget& operator=(const CallWorkBudget&) = delete;

 private:
  PushdownMatcher* matcher_;
};

inline void SetTokenBit(uint32_t* words, int32_t id) { words[id >> 5] |= 1u << (id & 31); }
inline void ClearTokenBit(uint32_t* words, int32_t id) { words[id >> 5] &= ~(1u << (id & 31)); }
inline bool HasTokenBit(const uint32_t* words, int32_t id) { return words[id >> 5] & (1u << (id & 31)); }

// The length of `text` without a UTF-8 sequence cut short at its end.
size_t WithoutIncompleteUtf8Tail(const std::string& text) {
  size_t i = text.size();
  while (i > 0 && (static_cast<uint8_t>(text[i - 1]) & 0xC0) == 0x80) --i;  // continuation bytes
  if (i == 0) return text.size();
  uint8_t lead = static_cast<uint8_t>(text[i - 1]);
  size_t need = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : 4;
  return text.size() - (i - 1) < need ? i - 1 : text.size();
}

}  // namespace

void GrammarMatcher::ExclusiveUse::RefuseConcurrentUse(const char* what) {
  throw UsageError(std::string(what) +
                   ": the matcher is in use by another thread (a matcher serves one thread at a "
                   "time; give each thread its own, e.g. with fork())");
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

bool GrammarMatcher::AdvanceMarker(int32_t token_id) {
  std::string marker = TokenMarker(token_id);
  if (!matcher_.AdvanceBytes(reinterpret_cast<const uint8_t*>(marker.data()), marker.size())) return false;
  RecordToken(static_cast<int64_t>(marker.size()));
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

void GrammarMatcher::CheckTokenIds(const std::vector<int32_t>& ids, const char* name) const {
  int32_t vocab = tokenizer_->vocab_size();
  for (size_t k = 0; k < ids.size(); ++k) {
    if (ids[k] < 0 || ids[k] >= vocab) {
      throw UsageError(std::string(name) + "[" + std::to_string(k) + "] = " + std::to_string(ids[k]) +
                       " is out of range [0, " + std::to_string(vocab) + ")");
    }
  }
}

// Runs `walk(matcher, &accepted)` and leaves this matcher as it was. Under a
// bounded rollback window a long walk could outrun it, so a copy with an
// unbounded window walks; otherwise this matcher walks and then rolls back the
// `accepted` tokens it still holds, also when a step throws MatchBudgetError.
template <typename Walk>
auto GrammarMatcher::WalkAndRestore(Walk walk) {
  int32_t accepted = 0;
  if (max_rollback_tokens_ >= 0) {
    GrammarMatcher copy(*this);
    copy.max_rollback_tokens_ = -1;
    return walk(copy, &accepted);
  }
  try {
    auto result = walk(*this, &accepted);
    Rollback(accepted);
    return result;
  } catch (const MatchBudgetError&) {
    Rollback(accepted);  // the tokens before the step over budget
    throw;
  }
}

int32_t GrammarMatcher::ValidateTokens(const std::vector<int32_t>& ids) {
  CheckUsable("validate_tokens");
  CheckTokenIds(ids, "token_ids");
  return WalkAndRestore([&ids](GrammarMatcher& m, int32_t* accepted) {
    m.AcceptPrefix(ids, accepted);
    return *accepted;
  });
}

bool GrammarMatcher::TraverseDraftTree(const std::vector<int32_t>& first_child,
                                       const std::vector<int32_t>& next_sibling,
                                       const std::vector<int32_t>& tokens, uint32_t* rows,
                                       int64_t row_stride, int64_t num_words, double deadline_seconds,
                                       std::vector<uint8_t>* filled) {
  using Clock = std::chrono::steady_clock;
  DraftTree tree{first_child, next_sibling, tokens, rows, row_stride, num_words, deadline_seconds > 0, {}};
  if (tree.timed) {
    tree.deadline =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(deadline_seconds));
  }
  filled->assign(first_child.size(), 0);
  // `accepted`: the tokens of the current path, left to roll back only when the
  // time runs out inside the tree or a step is over budget.
  return WalkAndRestore(
      [&](GrammarMatcher& m, int32_t* accepted) { return m.WalkDraftTree(tree, filled, accepted); });
}

int32_t GrammarMatcher::TraverseDraftChain(const std::vector<int32_t>& draft, uint32_t* rows,
                                           int64_t row_stride, int64_t num_words) {
  CheckUsable("traverse_draft_chain");
  CheckTokenIds(draft, "draft_tokens");
  return WalkAndRestore([&](GrammarMatcher& m, int32_t* accepted) {
    m.WalkDraftChain(draft, rows, row_stride, num_words, accepted);
    return *accepted;
  });
}

// Row by row: fill row i, then accept draft[i] if row i allows it; `*accepted`
// counts the tokens accepted. The rows not reached are zeroed.
void GrammarMatcher::WalkDraftChain(const std::vector<int32_t>& draft, uint32_t* rows, int64_t row_stride,
                                    int64_t num_words, int32_t* accepted) {
  const int64_t num_rows = static_cast<int64_t>(draft.size()) + 1;
  auto row = [&](int64_t r) { return rows + r * row_stride; };
  int64_t written = 0;
  while (written < num_rows && !IsTerminated()) {  // after a stop token nothing follows
    FillNextTokenBitmask(row(written), num_words);
    ++written;
    if (written == num_rows) break;
    int32_t token = draft[written - 1];
    if (!HasTokenBit(row(written - 1), token) || !AcceptToken(token)) break;
    ++*accepted;
  }
  for (int64_t r = written; r < num_rows; ++r) std::memset(row(r), 0, sizeof(uint32_t) * num_words);
}

// Depth first over the tree; `*accepted` counts the tokens of the current path.
// False when the deadline stopped the walk.
bool GrammarMatcher::WalkDraftTree(const DraftTree& tree, std::vector<uint8_t>* filled, int32_t* accepted) {
  const int32_t vocab = tokenizer_->vocab_size();
  // Work items: (node, parent); node -1 rolls one token back once a subtree is done.
  std::vector<std::pair<int32_t, int32_t>> work{{0, -1}};
  auto row = [&](int32_t node) { return tree.rows + node * tree.row_stride; };
  auto zero = [&](int32_t node) { std::memset(row(node), 0, sizeof(uint32_t) * tree.num_words); };
  while (!work.empty()) {
    auto [node, parent] = work.back();
    work.pop_back();
    if (node < 0) {
      Rollback(1);
      --*accepted;
      continue;
    }
    if (tree.next_sibling[node] >= 0) work.push_back({tree.next_sibling[node], parent});
    if (node > 0) {
      int32_t token = tree.tokens[node];
      if (token < 0 || token >= vocab || !HasTokenBit(row(parent), token)) {
        zero(node);
        continue;
      }
      if (tree.timed && std::chrono::steady_clock::now() > tree.deadline) return false;
      if (!AcceptToken(token)) {
        zero(node);
        continue;
      }
      ++*accepted;
    }
    if (IsTerminated()) {
      zero(node);
      if (node > 0) {
        Rollback(1);
        --*accepted;
      }
      continue;
    }
    FillNextTokenBitmask(row(node), tree.num_words);
    (*filled)[node] = 1;
    if (node > 0) work.push_back({-1, -1});  // runs after the node's subtree
    if (tree.first_child[node] >= 0) work.push_back({tree.first_child[node], node});
  }
  return true;
}

void GrammarMatcher::AcceptPrefix(const std::vector<int32_t>& ids, int32_t* accepted) {
  for (int32_t id : ids) {
    if ((*accepted > 0 && terminated_) || !AcceptToken(id)) return;
    ++*accepted;
  }
}

void GrammarMatcher::Reset() {
  matcher_.Reset();
  token_bytes_.clear();
  terminated_ = false;
}

// ---------------------------------------------------------------------------
// The next-token bitmask (the steps are listed in grammar_matcher.h).

bool GrammarMatcher::FillNextTokenBitmask(uint32_t* words, int64_t num_words) {
  CheckUsable("fill_next_token_bitmask");
  int64_t needed = CheckBitmaskWords(num_words);
  if (ReuseLastMask(words, num_words, needed)) return memo_need_apply_;
  std::memset(words, 0, sizeof(uint32_t) * num_words);
  GroupThreadsByState();
  candidates_.clear();
  for (const StateGroup& group : groups_) AddGroupMask(group, words, needed);
  // The dedup bits must be clear for the next call before the list is filtered.
  for (int32_t id : candidates_) ClearTokenBit(candidate_seen_.data(), id);
  {
    CallWorkBudget budget(&matcher_, "one mask fill");
    CheckCandidates(words);
    if (!compiled_->marked_tokens().empty()) DecideMarkedTokens(words);
  }
  fill_stats_.threads = static_cast<int64_t>(matcher_.NumCurrentItems());
  fill_stats_.states = static_cast<int64_t>(groups_.size());
  fill_stats_.candidates = static_cast<int64_t>(candidates_.size());
  // A stop token is a stop whatever text it spells (override_stop_tokens may name
  // an ordinary token, which the cache entries allowed as text): as accept_token
  // takes it, it is allowed exactly when the root can end.
  const bool can_end = matcher_.CanEnd();
  for (int32_t id : stop_token_ids_) {
    if (can_end) {
      SetTokenBit(words, id);
    } else {
      ClearTokenBit(words, id);
    }
  }
  bool need_apply = !AllowsWholeVocabulary(words);
  RememberMask(words, needed, need_apply);
  return need_apply;
}

// The number of words a mask row needs; throws if the row has fewer.
int64_t GrammarMatcher::CheckBitmaskWords(int64_t num_words) const {
  int32_t vocab = tokenizer_->vocab_size();
  int64_t needed = (vocab + 31) / 32;
  if (num_words < needed) {
    throw UsageError("bitmask row has " + std::to_string(num_words) + " words; " +
                     std::to_string(needed) + " are needed for a vocabulary of " +
                     std::to_string(vocab));
  }
  return needed;
}

// The mask is a function of the live threads (state, stack content, guard)
// and of whether the root can end: when they are those of the last fill, its
// mask is copied into `words` and true returned. Leaves the threads' key in
// current_key_ for RememberMask.
bool GrammarMatcher::ReuseLastMask(uint32_t* words, int64_t num_words, int64_t needed) {
  current_key_.clear();
  current_key_.push_back(matcher_.CanEnd());
  for (const Item* it = matcher_.CurrentItemsBegin(); it != matcher_.CurrentItemsEnd(); ++it) {
    current_key_.push_back((uint64_t(uint32_t(it->state)) << 32) | uint32_t(it->guard));
    current_key_.push_back(matcher_.NodeSerial(it->node));
  }
  if (current_key_ != memo_key_) return false;
  std::memcpy(words, memo_words_.data(), sizeof(uint32_t) * needed);
  if (num_words > needed) std::memset(words + needed, 0, sizeof(uint32_t) * (num_words - needed));
  fill_stats_ = FillStats{static_cast<int64_t>(matcher_.NumCurrentItems()), 0, 0};
  return true;
}

void GrammarMatcher::RememberMask(const uint32_t* words, int64_t needed, bool need_apply) {
  memo_key_.swap(current_key_);
  memo_words_.assign(words, words + needed);
  memo_need_apply_ = need_apply;
}

// Fills groups_: one per distinct (state or guarded state, caller context) among
// the live threads, in order of first appearance.
void GrammarMatcher::GroupThreadsByState() {
  groups_.clear();
  context_frames_.clear();
  TokenMaskCache& cache = compiled_->cache();
  const Automaton& automaton = *compiled_->automaton();
  for (const Item* it = matcher_.CurrentItemsBegin(); it != matcher_.CurrentItemsEnd(); ++it) {
    bool guarded = (it->guard & kGuardMask) != 0;
    StateId state = it->state;
    StateId key = guarded ? -1 - state : state;  // guarded threads are rare: set apart by sign
    const TokenMaskEntry& entry = cache.Get(state);
    int32_t num_frames = 0;
    uint64_t context = 0;
    // Known callers only help decide uncertain tokens (Layer C).
    if (!guarded && !entry.uncertain.empty()) context = FindKnownCallers(state, it->node, &num_frames);
    int32_t remaining =
        automaton.rules[automaton.state_rule[state]].is_helper ? matcher_.RemainingIterations(it->node) : 0;
    auto same = [key, context](const StateGroup& g) { return g.key == key && g.context == context; };
    auto found = std::find_if(groups_.begin(), groups_.end(), same);
    if (found != groups_.end()) {
      found->remaining = std::max(found->remaining, remaining);
      continue;
    }
    groups_.push_back(StateGroup{key, &entry, context, context_frames_.size(), num_frames, remaining});
    context_frames_.insert(context_frames_.end(), chain_, chain_ + num_frames);
  }
}

// Writes the known callers of the thread at `node` into chain_ and their count
// into *num_frames; returns their context key (bit 0 set), or 0 when none are
// known.
uint64_t GrammarMatcher::FindKnownCallers(StateId state, NodeId node, int32_t* num_frames) {
  *num_frames = matcher_.KnownCallers(node, kContextDepth, kContextEdges, tokenizer_->max_token_bytes(), chain_);
  return *num_frames > 0 ? TokenMaskCache::ContextKey(state, chain_, *num_frames) | 1 : 0;
}

void GrammarMatcher::AddGroupMask(const StateGroup& group, uint32_t* words, int64_t needed) {
  const TokenMaskEntry& entry = *group.entry;
  if (group.guarded()) {
    AddCountedTokens(entry, /*remaining=*/0, /*guarded=*/true, words, needed);
    AddGuardedCandidates(entry, -1 - group.key);
    return;
  }
  AddCountedTokens(entry, group.remaining, /*guarded=*/false, words, needed);
  AddAcceptedTokens(entry, words, needed);
  AddUncertainTokens(group, words);
}

// Counted tokens (sorted by the iterations they need) are allowed when the
// repetition has that many left; the others are checked at run time where a
// parse might leave the repetition, and rejected otherwise.
void GrammarMatcher::AddCountedTokens(const TokenMaskEntry& entry, int32_t remaining, bool guarded,
                                      uint32_t* words, int64_t needed) {
  size_t cut = std::upper_bound(entry.counted_needed.begin(), entry.counted_needed.end(), remaining) -
               entry.counted_needed.begin();
  if (cut > 0 && !entry.counted_prefix_bitsets.empty()) {
    size_t iterations = std::min<size_t>(entry.counted_needed[cut - 1], entry.counted_prefix_bitsets.size());
    const std::vector<uint32_t>& fits = entry.counted_prefix_bitsets[iterations - 1];
    for (int64_t w = 0; w < needed; ++w) words[w] |= fits[w];
  } else {
    for (size_t i = 0; i < cut; ++i) SetTokenBit(words, entry.counted[i]);
  }
  bool all_may_exit = guarded || entry.counted_may_exit.empty();
  for (size_t i = cut; i < entry.counted.size(); ++i) {
    if (all_may_exit || entry.counted_may_exit[i]) AddCandidate(entry.counted[i]);
  }
}

void GrammarMatcher::AddAcceptedTokens(const TokenMaskEntry& entry, uint32_t* words, int64_t needed) {
  switch (entry.storage) {
    case TokenMaskEntry::Storage::kAcceptedList:
      for (int32_t id : entry.tokens) SetTokenBit(words, id);
      break;
    case TokenMaskEntry::Storage::kAcceptedBitset:
      for (int64_t w = 0; w < needed; ++w) words[w] |= entry.bitset[w];
      break;
    case TokenMaskEntry::Storage::kRejectedList:
      // Accepted = text tokens - rejected - uncertain - counted.
      scratch_words_ = tokenizer_->text_token_bits();  // same size: no allocation after the first
      for (int32_t id : entry.tokens) ClearTokenBit(scratch_words_.data(), id);
      for (int32_t id : entry.uncertain) ClearTokenBit(scratch_words_.data(), id);
      for (int32_t id : entry.counted) ClearTokenBit(scratch_words_.data(), id);
      for (int64_t w = 0; w < needed; ++w) words[w] |= scratch_words_[w];
      break;
  }
}

// The entry assumed no pending lookahead: every token it did not reject must
// be checked against the live matcher.
void GrammarMatcher::AddGuardedCandidates(const TokenMaskEntry& entry, StateId state) {
  const std::vector<int32_t>& trie_tokens = tokenizer_->trie_token_ids();
  switch (entry.storage) {
    case TokenMaskEntry::Storage::kAcceptedList:
      for (int32_t id : entry.tokens) AddCandidate(id);
      break;
    case TokenMaskEntry::Storage::kAcceptedBitset:
      for (int32_t id : trie_tokens) {
        if (HasTokenBit(entry.bitset.data(), id)) AddCandidate(id);
      }
      break;
    case TokenMaskEntry::Storage::kRejectedList:
      for (int32_t id : trie_tokens) {
        if (!std::binary_search(entry.tokens.begin(), entry.tokens.end(), id)) AddCandidate(id);
      }
      break;
  }
  const std::vector<int32_t>& crossing =
      entry.escape_deferred ? compiled_->cache().GetEscaped(state) : entry.uncertain;
  for (int32_t id : crossing) AddCandidate(id);
}

// Uncertain tokens: decided for the group's known callers where it has them
// (once per context, by the cache), else all left to CheckCandidates.
void GrammarMatcher::AddUncertainTokens(const StateGroup& group, uint32_t* words) {
  TokenMaskCache& cache = compiled_->cache();
  const TokenMaskEntry& entry = *group.entry;
  if (group.context == 0) {
    const std::vector<int32_t>& crossing = entry.escape_deferred ? cache.GetEscaped(group.key) : entry.uncertain;
    for (int32_t id : crossing) AddCandidate(id);
    return;
  }
  const CallerFrame* frames = context_frames_.data() + group.frames_begin;
  const ContextMaskEntry& in_context = cache.GetInContext(group.key, frames, group.num_frames, group.context);
  for (int32_t id : in_context.accepted) SetTokenBit(words, id);
  for (int32_t id : in_context.uncertain) AddCandidate(id);
}

void GrammarMatcher::AddCandidate(int32_t id) {
  if (HasTokenBit(candidate_seen_.data(), id)) return;
  SetTokenBit(candidate_seen_.data(), id);
  candidates_.push_back(id);
}

// Runs each candidate not yet allowed through the live matcher, in trie order:
// consecutive candidates share a prefix, so the matcher rolls back only to the
// common prefix, and a prefix that failed rejects every candidate under it.
void GrammarMatcher::CheckCandidates(uint32_t* words) {
  const std::vector<int32_t>& node_of = tokenizer_->token_node();
  candidates_.erase(std::remove_if(candidates_.begin(), candidates_.end(),
                                   [words](int32_t id) { return HasTokenBit(words, id); }),
                    candidates_.end());
  std::sort(candidates_.begin(), candidates_.end(),
            [&node_of](int32_t a, int32_t b) { return node_of[a] < node_of[b]; });
  const std::vector<std::string>& vocab = tokenizer_->decoded_vocab();
  const std::string* path = nullptr;  // bytes currently advanced: a prefix of *path
  size_t depth = 0;
  size_t failed_at = std::string::npos;  // depth whose byte failed on the current path
  PushdownMatcher::RollbackOnThrow undo(&matcher_, &depth);
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
    while (depth < bytes.size() && matcher_.AdvanceByte(static_cast<uint8_t>(bytes[depth]))) ++depth;
    if (depth < bytes.size()) {
      failed_at = depth;
    } else {
      SetTokenBit(words, id);
    }
  }
  if (depth > 0) matcher_.Rollback(static_cast<int64_t>(depth));
}

// A token the grammar names with Token(id) is allowed exactly when its marker can
// be read next; its text, if it has any, does not count in this grammar.
void GrammarMatcher::DecideMarkedTokens(uint32_t* words) {
  for (int32_t id : compiled_->marked_tokens()) {
    ClearTokenBit(words, id);
    std::string marker = TokenMarker(id);
    size_t read = 0;
    PushdownMatcher::RollbackOnThrow undo(&matcher_, &read);
    while (read < marker.size() && matcher_.AdvanceByte(static_cast<uint8_t>(marker[read]))) ++read;
    if (read > 0) matcher_.Rollback(static_cast<int64_t>(read));
    if (read == marker.size()) SetTokenBit(words, id);
  }
}

// Whether every id of the vocabulary is allowed (then the mask needs no applying).
bool GrammarMatcher::AllowsWholeVocabulary(const uint32_t* words) const {
  int32_t vocab = tokenizer_->vocab_size();
  for (int32_t id = 0; id < vocab; id += 32) {
    uint32_t full = (vocab - id >= 32) ? 0xFFFFFFFFu : ((1u << (vocab - id)) - 1);
    if ((words[id >> 5] & full) != full) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Jump-forward strings.

// The byte every live thread must read next, or -1 when they may read
// different bytes (or none).
int GrammarMatcher::ForcedNextByte() const {
  const Automaton& a = matcher_.automaton();
  int forced = -1;
  for (const Item* it = matcher_.CurrentItemsBegin(); it != matcher_.CurrentItemsEnd(); ++it) {
    for (int32_t e = a.byte_edge_begin[it->state]; e < a.byte_edge_begin[it->state + 1]; ++e) {
      const ByteEdge& edge = a.byte_edges[e];
      if (edge.lo != edge.hi || (forced >= 0 && forced != edge.lo)) return -1;
      forced = edge.lo;
    }
  }
  return forced;
}

// Reads forced bytes ahead as far as they go, then rolls them back: the string
// is a suggestion, the matcher's state does not change.
std::string GrammarMatcher::FindJumpForwardString() {
  CheckUsable("find_jump_forward_string");
  constexpr size_t kMaxJumpForwardBytes = 65536;
  std::string out;
  size_t advanced = 0;
  {
    CallWorkBudget budget(&matcher_, "find_jump_forward_string");
    PushdownMatcher::RollbackOnThrow undo(&matcher_, &advanced);
    while (out.size() < kMaxJumpForwardBytes && !matcher_.CanEnd()) {
      int forced = ForcedNextByte();
      // A token marker is no text: jump-forward stops before it.
      if (forced < 0 || forced == kTokenMarkerLead) break;
      if (!matcher_.AdvanceByte(static_cast<uint8_t>(forced))) break;
      out.push_back(static_cast<char>(forced));
      advanced = out.size();
    }
  }
  if (!out.empty()) matcher_.Rollback(static_cast<int64_t>(out.size()));
  out.resize(WithoutIncompleteUtf8Tail(out));
  return out;
}

}  // namespace xgram
