// Adaptive token-mask cache: for each automaton position, the vocabulary split
// into tokens valid in every context (accepted), in no context (rejected) and
// context-dependent ones (uncertain), decided once per grammar and tokenizer.
//
// Classification of position s walks the tokenizer's prefix trie (trie_walk.h)
// with a matcher in classification mode (pushdown_matcher.h), in three layers:
//   A  caller-independent, shared by every grammar for the tokenizer under the
//      state's structural hash: a token is accepted when a thread that stayed
//      inside s's rule survives it (or the rule can end exactly at its last
//      byte), "crossing" when only a thread past the rule's end might, and
//      rejected otherwise;
//   B  per grammar: crossing tokens followed into every call site of the rule,
//      transitively (automatic "context expansion"); those that die everywhere
//      are rejected, the rest stay uncertain. For rules called from more than
//      kEagerEscapeCallSites places (JSON whitespace) B waits until a thread
//      without known callers needs it (GetEscaped);
//   C  per grammar and context: uncertain tokens decided for the live thread's
//      known callers (a tree of parent edges a few calls deep, with return
//      states and canonical repetition counts), once per context
//      (GetInContext); a fill re-checks only those that cross even them.
// An entry stores the smallest of: the accepted ids, the rejected ids, or an
// accepted bitset; uncertain ids are kept in trie order, so the run-time check
// walks shared prefixes once.
//
// Entries are computed lazily on first use (lock-free publication through an
// atomic pointer) or eagerly by ComputeAll on several threads.
#ifndef XGRAM_TOKEN_MASK_CACHE_H_
#define XGRAM_TOKEN_MASK_CACHE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "automaton.h"
#include "pushdown_matcher.h"
#include "tokenizer_info.h"
#include "trie_walk.h"

namespace xgram {

struct TokenMaskEntry {
  enum class Storage : uint8_t { kAcceptedList, kRejectedList, kAcceptedBitset };
  Storage storage = Storage::kAcceptedList;
  std::vector<int32_t> tokens;     // sorted ids: accepted or rejected, by `storage`
  std::vector<uint32_t> bitset;    // accepted ids, for kAcceptedBitset
  std::vector<int32_t> uncertain;  // ids in trie order
  std::vector<int32_t> uncertain_nodes;  // their trie nodes, ascending
  // Layer B was not run (a rule with many call sites): `uncertain` holds every
  // crossing token, for Layer C; threads without known callers use GetEscaped.
  bool escape_deferred = false;
  // Tokens valid when the live counted repetition has at least counted_needed[i]
  // iterations left (this one included); sorted by that number. Otherwise they
  // are checked like uncertain ones.
  std::vector<int32_t> counted;
  std::vector<int32_t> counted_needed;
  // Per counted token: whether a parse might leave the repetition (then a token
  // that does not fit is checked at run time; otherwise it is simply rejected).
  // Empty means "yes" for every token (entries imported from a blob).
  std::vector<uint8_t> counted_may_exit;
  // counted_prefix_bitsets[j]: the counted tokens needing at most j+1 iterations,
  // kept when there are many counted tokens, so a fill ORs one bitset.
  std::vector<std::vector<uint32_t>> counted_prefix_bitsets;
  int32_t num_accepted = 0;
  size_t MemoryBytes() const {
    constexpr size_t kWord = sizeof(int32_t);  // every list holds 32-bit ids, nodes or words
    size_t total = sizeof(*this) +
                   (tokens.capacity() + bitset.capacity() + uncertain.capacity() + uncertain_nodes.capacity()) * kWord +
                   counted.capacity() * 2 * kWord +  // counted and counted_needed, filled together
                   counted_may_exit.capacity();
    for (const auto& b : counted_prefix_bitsets) total += b.capacity() * kWord;
    return total;
  }
  // Derives counted_prefix_bitsets from counted/counted_needed.
  void BuildCountedBitsets(int32_t vocab_size);
};

// The uncertain tokens of a state, decided for one caller (Layer C).
struct ContextMaskEntry {
  std::vector<int32_t> key;        // state, then (from, return state, call edge, count) per caller edge
  std::vector<int32_t> accepted;   // valid in that caller whatever lies beyond it
  std::vector<int32_t> uncertain;  // still depend on the callers beyond; trie order
};

// Counted tokens needing more iterations than this are treated as uncertain.
constexpr int32_t kMaxCountedIterations = 64;
// Layer B runs eagerly for rules called from at most this many places.
constexpr int32_t kEagerEscapeCallSites = 32;

// The process-wide store of caller-independent mask parts, shared by grammars
// compiled for the same tokenizer, bounded by bytes (least recently used parts
// leave first).
constexpr size_t kDefaultSharedMaskCacheLimit = size_t{1} << 30;
void ClearSharedMaskCache();
size_t SharedMaskCacheBytes();
size_t SharedMaskCacheSize();
size_t SharedMaskCacheLimit();
void SetSharedMaskCacheLimit(size_t bytes);

// The caller-independent part of an entry (Layer A), shared between grammars
// (token_mask_cache.cc).
struct InsideMask;

class TokenMaskCache {
 public:
  TokenMaskCache(AutomatonPtr automaton, TokenizerInfoPtr tokenizer);
  ~TokenMaskCache();
  TokenMaskCache(const TokenMaskCache&) = delete;
  TokenMaskCache& operator=(const TokenMaskCache&) = delete;

  // The entry of a state with byte edges, computed on first use.
  const TokenMaskEntry& Get(StateId state);
  // The entry's uncertain tokens re-decided for a thread whose known callers
  // are `callers` (PushdownMatcher::KnownCallers). Computed on first use and
  // kept per grammar; `context_key` is ContextKey(state, callers).
  const ContextMaskEntry& GetInContext(StateId state, const CallerFrame* callers, int32_t num_callers,
                                       uint64_t context_key);
  static uint64_t ContextKey(StateId state, const CallerFrame* callers, int32_t num_callers);
  // For an entry with escape_deferred: the crossing tokens that survive some
  // caller (Layer B), in trie order, counted ones included (computed once).
  const std::vector<int32_t>& GetEscaped(StateId state);
  // Computes every entry, on up to `num_threads` threads.
  void ComputeAll(int num_threads);
  size_t MemoryBytes() const;
  int64_t NumComputed() const;
  // Computed entries as a flat int32 blob, and back. Import checks the blob's
  // shape and ignores states already computed.
  std::vector<int32_t> ExportEntries() const;
  void ImportEntries(const std::vector<int32_t>& blob);
  const Automaton& automaton() const { return *automaton_; }
  const TokenizerInfo& tokenizer() const { return *tokenizer_; }

 private:
  TokenMaskEntry Compute(StateId state) const;
  // Layer A: the state's caller-independent part, walked inside its rule (and
  // into further iterations of it with `self_repeat`).
  std::shared_ptr<const InsideMask> WalkInside(StateId state, bool self_repeat) const;
  struct InsideWalker;  // its trie_walk::WalkHooks (token_mask_cache.cc)
  // Layer B over the crossing trie nodes: tokens some caller lets through,
  // split into counted (iterations needed, id) and uncertain ids.
  void WalkEscapes(StateId state, const std::vector<int32_t>& crossing,
                   std::vector<std::pair<int32_t, int32_t>>* counted, std::vector<int32_t>* uncertain) const;
  // Whether the state loops on every JSON string-content character: 0 no, 1
  // yes, 2 yes and it reads no control byte, not even inside a character
  // (memoised).
  int8_t LoopsOnPlainText(StateId state) const {
    int8_t known = plain_loop_[state].load(std::memory_order_relaxed);
    return known >= 0 ? known : ComputePlainLoop(state);
  }
  int8_t ComputePlainLoop(StateId state) const;
  // Whether every character of UTF-8 lead byte `lead` read from `state` ends in
  // a plain-text loop, answered as LoopsOnPlainText (trie_walk::LeadsIntoPlainLoops;
  // memoised per state: the leads as bits b - 0xC0, kPlainLeadsKnown, kPlainLeadsNoControl).
  int8_t PlainAfterLead(StateId state, uint8_t lead) const {
    uint64_t known = plain_leads_[state].load(std::memory_order_relaxed);
    if ((known & kPlainLeadsKnown) == 0) known = ComputePlainLeads(state);
    if (((known >> (lead - 0xC0)) & 1) == 0) return trie_walk::kNoPlainLoop;
    return (known & kPlainLeadsNoControl) ? trie_walk::kPlainLoopNoControl : trie_walk::kPlainLoop;
  }
  static constexpr uint64_t kPlainLeadsKnown = uint64_t{1} << 63, kPlainLeadsNoControl = uint64_t{1} << 62;
  uint64_t ComputePlainLeads(StateId state) const;
  // The ASCII bytes that lead from a simple state back to itself, as two
  // words (bytes 0-63, 64-127), and the lead bytes whose every character does
  // (memoised, three words per state; known 1: the ASCII words, 2: all three).
  trie_walk::LoopSet LoopClass(StateId state, bool with_leads) const {
    // Words are atomics: threads that compute the same state store equal values.
    uint8_t known = loop_class_known_[state].load(std::memory_order_acquire);
    if (known == 0 || (with_leads && known == 1)) return ComputeLoopClass(state, with_leads);
    return {{loop_class_[3 * static_cast<size_t>(state)].load(std::memory_order_relaxed),
             loop_class_[3 * static_cast<size_t>(state) + 1].load(std::memory_order_relaxed)},
            with_leads ? loop_class_[3 * static_cast<size_t>(state) + 2].load(std::memory_order_relaxed) : 0};
  }
  trie_walk::LoopSet ComputeLoopClass(StateId state, bool with_leads) const;

  AutomatonPtr automaton_;
  TokenizerInfoPtr tokenizer_;
  trie_walk::TransitionRows rows_;  // for the walks' DFA mode
  std::unique_ptr<std::atomic<const TokenMaskEntry*>[]> entries_;
  mutable std::unique_ptr<std::atomic<int8_t>[]> plain_loop_;  // -1 unknown, else LoopsOnPlainText
  mutable std::unique_ptr<std::atomic<uint64_t>[]> plain_leads_;  // PlainAfterLead, 0 unknown
  mutable std::unique_ptr<std::atomic<uint8_t>[]> loop_class_known_;
  mutable std::unique_ptr<std::atomic<uint64_t>[]> loop_class_;
  mutable std::mutex context_mutex_;  // MemoryBytes reads the maps too
  std::unordered_multimap<uint64_t, std::unique_ptr<const ContextMaskEntry>> context_entries_;
  std::unordered_map<StateId, std::unique_ptr<const std::vector<int32_t>>> escaped_;  // GetEscaped
};

}  // namespace xgram

#endif  // XGRAM_TOKEN_MASK_CACHE_H_
