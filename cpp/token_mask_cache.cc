// Adaptive token-mask cache (see token_mask_cache.h).
#include "token_mask_cache.h"

#include <algorithm>
#include <thread>

#include "pushdown_matcher.h"

namespace xgram {

TokenMaskCache::TokenMaskCache(AutomatonPtr automaton, TokenizerInfoPtr tokenizer)
    : automaton_(std::move(automaton)), tokenizer_(std::move(tokenizer)) {
  int32_t n = automaton_->num_states();
  entries_.reset(new std::atomic<const TokenMaskEntry*>[n]);
  for (int32_t i = 0; i < n; ++i) entries_[i].store(nullptr, std::memory_order_relaxed);
}

TokenMaskCache::~TokenMaskCache() {
  for (int32_t i = 0; i < automaton_->num_states(); ++i) delete entries_[i].load();
}

const TokenMaskEntry& TokenMaskCache::Get(StateId state) {
  const TokenMaskEntry* entry = entries_[state].load(std::memory_order_acquire);
  if (entry) return *entry;
  auto computed = std::make_unique<TokenMaskEntry>(Compute(state));
  const TokenMaskEntry* expected = nullptr;
  if (entries_[state].compare_exchange_strong(expected, computed.get(), std::memory_order_acq_rel)) {
    return *computed.release();
  }
  return *expected;  // another thread published first
}

void TokenMaskCache::ComputeAll(int num_threads) {
  std::vector<StateId> todo;
  for (StateId s = 0; s < automaton_->num_states(); ++s) {
    if (automaton_->HasByteEdges(s) && !entries_[s].load(std::memory_order_acquire)) todo.push_back(s);
  }
  num_threads = std::max(1, std::min<int>(num_threads, static_cast<int>(todo.size())));
  if (num_threads <= 1) {
    for (StateId s : todo) Get(s);
    return;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  for (int t = 0; t < num_threads; ++t) {
    workers.emplace_back([&] {
      try {
        for (size_t i; (i = next.fetch_add(1)) < todo.size() && !failed;) Get(todo[i]);
      } catch (...) {
        if (!failed.exchange(true)) error = std::current_exception();
      }
    });
  }
  for (std::thread& w : workers) w.join();
  if (error) std::rethrow_exception(error);
}

TokenMaskEntry TokenMaskCache::Compute(StateId state) const {
  TokenMaskEntry entry;
  if (!automaton_->HasByteEdges(state)) return entry;
  const TokenizerInfo& tok = *tokenizer_;
  const std::vector<TrieNode>& trie = tok.trie();
  const std::vector<int32_t>& trie_tokens = tok.trie_token_ids();

  PushdownMatcher matcher(automaton_, /*max_rollback_steps=*/-1);
  matcher.ResetForClassification(state);
  std::vector<int32_t> accepted;
  int32_t depth = 0;
  for (int32_t i = 1, n = static_cast<int32_t>(trie.size()); i < n;) {
    const TrieNode& node = trie[i];
    int32_t parent_depth = node.depth - 1;
    if (depth > parent_depth) {
      matcher.Rollback(depth - parent_depth);
      depth = parent_depth;
    }
    if (!matcher.AdvanceByte(node.byte)) {
      i = node.subtree_end;  // every token extending this prefix is rejected
      continue;
    }
    ++depth;
    if (node.token_begin < node.token_end) {
      bool valid_everywhere = matcher.CanEnd() || matcher.HasInsideThreads();
      std::vector<int32_t>& out = valid_everywhere ? accepted : entry.uncertain;
      out.insert(out.end(), trie_tokens.begin() + node.token_begin, trie_tokens.begin() + node.token_end);
    }
    ++i;
  }

  std::sort(accepted.begin(), accepted.end());
  entry.num_accepted = static_cast<int32_t>(accepted.size());
  int32_t vocab = tok.vocab_size();
  int64_t num_text_tokens = static_cast<int64_t>(trie_tokens.size());
  int64_t num_rejected = num_text_tokens - static_cast<int64_t>(accepted.size()) -
                         static_cast<int64_t>(entry.uncertain.size());
  int64_t bitset_words = (vocab + 31) / 32;
  if (static_cast<int64_t>(accepted.size()) <= bitset_words) {
    entry.storage = TokenMaskEntry::Storage::kAcceptedList;
    entry.tokens = std::move(accepted);
  } else if (num_rejected <= bitset_words) {
    entry.storage = TokenMaskEntry::Storage::kRejectedList;
    std::vector<uint8_t> keep(vocab, 0);
    for (int32_t id : accepted) keep[id] = 1;
    for (int32_t id : entry.uncertain) keep[id] = 1;
    for (int32_t id : trie_tokens) {
      if (!keep[id]) entry.tokens.push_back(id);
    }
    std::sort(entry.tokens.begin(), entry.tokens.end());
  } else {
    entry.storage = TokenMaskEntry::Storage::kAcceptedBitset;
    entry.bitset.assign(bitset_words, 0);
    for (int32_t id : accepted) entry.bitset[id >> 5] |= 1u << (id & 31);
  }
  entry.tokens.shrink_to_fit();
  entry.uncertain.shrink_to_fit();
  return entry;
}

size_t TokenMaskCache::MemoryBytes() const {
  size_t total = sizeof(*this) + automaton_->num_states() * sizeof(void*);
  for (int32_t i = 0; i < automaton_->num_states(); ++i) {
    if (const TokenMaskEntry* e = entries_[i].load()) total += e->MemoryBytes();
  }
  return total;
}

int64_t TokenMaskCache::NumComputed() const {
  int64_t count = 0;
  for (int32_t i = 0; i < automaton_->num_states(); ++i) count += entries_[i].load() != nullptr;
  return count;
}

}  // namespace xgram
