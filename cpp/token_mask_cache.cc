// Adaptive token-mask cache (see token_mask_cache.h).
#include "token_mask_cache.h"

#include <algorithm>
#include <thread>

#include "errors.h"
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

  // The walk keeps, per trie depth, either a plain DFA state (while the parse is
  // one thread moving through states that neither call nor complete, the common
  // case inside strings, names and numbers) or kNone, meaning the matcher holds
  // the parse at that depth. The matcher is only advanced where calls or
  // completions happen; `matcher_depth` records the trie depth of each of its
  // steps so climbing up the trie pops exactly the steps below the new depth.
  const Automaton& a = *automaton_;
  auto is_simple = [&a](StateId s) {
    return !a.is_final[s] && a.call_edge_begin[s] == a.call_edge_begin[s + 1];
  };
  PushdownMatcher matcher(automaton_, /*max_rollback_steps=*/-1);
  matcher.ResetForClassification(state);
  std::vector<int32_t> matcher_depth{0};
  // DFA mode at depth d: dfa_thread[d] is the thread (its state, node, guard)
  // and dfa_needed[d] the iterations its repetition needs (kNoRepetition if none).
  std::vector<Item> dfa_thread(1, Item{kNone, kNone, 0});
  std::vector<int32_t> dfa_needed(1, kNoRepetition);
  auto enter_dfa_mode = [&](int32_t depth) {
    Item single;
    if (matcher.SingleThread(&single) && is_simple(single.state)) {
      dfa_thread[depth] = single;
      dfa_needed[depth] = matcher.RepetitionNeeded(/*include_completed=*/false);
    } else {
      dfa_thread[depth].state = kNone;
    }
  };
  std::vector<std::pair<int32_t, int32_t>> counted;  // (needed, id)
  enter_dfa_mode(0);
  std::vector<int32_t> accepted;
  for (int32_t i = 1, n = static_cast<int32_t>(trie.size()); i < n;) {
    const TrieNode& node = trie[i];
    int32_t depth = node.depth;  // this node's depth; its parent is at depth - 1
    while (matcher_depth.back() > depth - 1) {
      matcher.Rollback(1);
      matcher_depth.pop_back();
    }
    if (static_cast<int32_t>(dfa_thread.size()) <= depth) {
      dfa_thread.resize(depth + 1, Item{kNone, kNone, 0});
      dfa_needed.resize(depth + 1, kNoRepetition);
    }
    bool valid_everywhere;
    int32_t needed = kNoRepetition;
    const Item parent = dfa_thread[depth - 1];
    if (parent.state != kNone) {
      StateId next = a.NextByte(parent.state, node.byte);
      if (next == kNone) {
        i = node.subtree_end;
        continue;
      }
      if (is_simple(next)) {
        dfa_thread[depth] = Item{next, parent.node, parent.guard};
        dfa_needed[depth] = dfa_needed[depth - 1];
        valid_everywhere = (parent.guard & kEscapedBit) == 0;
        needed = dfa_needed[depth];
      } else {
        if (!matcher.PushThread(Item{next, parent.node, parent.guard})) {
          i = node.subtree_end;
          continue;
        }
        matcher_depth.push_back(depth);
        valid_everywhere = matcher.CanEnd() || matcher.HasInsideThreads();
        if (!valid_everywhere) needed = matcher.RepetitionNeeded();
        enter_dfa_mode(depth);
      }
    } else {
      if (!matcher.AdvanceByte(node.byte)) {
        i = node.subtree_end;  // every token extending this prefix is rejected
        continue;
      }
      matcher_depth.push_back(depth);
      valid_everywhere = matcher.CanEnd() || matcher.HasInsideThreads();
      if (!valid_everywhere) needed = matcher.RepetitionNeeded();
      enter_dfa_mode(depth);
    }
    if (node.token_begin < node.token_end) {
      if (!valid_everywhere && needed <= kMaxCountedIterations) {
        for (int32_t t = node.token_begin; t < node.token_end; ++t) {
          counted.push_back({needed, trie_tokens[t]});
        }
      } else {
        std::vector<int32_t>& out = valid_everywhere ? accepted : entry.uncertain;
        out.insert(out.end(), trie_tokens.begin() + node.token_begin,
                   trie_tokens.begin() + node.token_end);
      }
    }
    ++i;
  }

  std::sort(counted.begin(), counted.end());
  for (const auto& [needed, id] : counted) {
    entry.counted_needed.push_back(needed);
    entry.counted.push_back(id);
  }
  entry.BuildCountedBitsets(tok.vocab_size());
  std::sort(accepted.begin(), accepted.end());
  entry.num_accepted = static_cast<int32_t>(accepted.size());
  int32_t vocab = tok.vocab_size();
  int64_t num_text_tokens = static_cast<int64_t>(trie_tokens.size());
  int64_t num_rejected = num_text_tokens - static_cast<int64_t>(accepted.size()) -
                         static_cast<int64_t>(entry.uncertain.size()) -
                         static_cast<int64_t>(entry.counted.size());
  int64_t bitset_words = (vocab + 31) / 32;
  if (static_cast<int64_t>(accepted.size()) <= bitset_words) {
    entry.storage = TokenMaskEntry::Storage::kAcceptedList;
    entry.tokens = std::move(accepted);
  } else if (num_rejected <= bitset_words) {
    entry.storage = TokenMaskEntry::Storage::kRejectedList;
    std::vector<uint8_t> keep(vocab, 0);
    for (int32_t id : accepted) keep[id] = 1;
    for (int32_t id : entry.uncertain) keep[id] = 1;
    for (int32_t id : entry.counted) keep[id] = 1;
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

void TokenMaskEntry::BuildCountedBitsets(int32_t vocab_size) {
  counted_prefix_bitsets.clear();
  if (counted.size() < 1024) return;  // a short list is cheaper to walk
  int32_t words = (vocab_size + 31) / 32;
  std::vector<uint32_t> current(words, 0);
  size_t i = 0;
  for (int32_t j = 1; j <= counted_needed.back(); ++j) {
    for (; i < counted.size() && counted_needed[i] <= j; ++i) {
      current[counted[i] >> 5] |= 1u << (counted[i] & 31);
    }
    counted_prefix_bitsets.push_back(current);
  }
}

// Blob layout, per computed state: state, storage, num_accepted, then five
// length-prefixed arrays (tokens, bitset words, uncertain ids, counted ids and
// the iterations each needs).
std::vector<int32_t> TokenMaskCache::ExportEntries() const {
  std::vector<int32_t> blob;
  for (int32_t s = 0; s < automaton_->num_states(); ++s) {
    const TokenMaskEntry* e = entries_[s].load(std::memory_order_acquire);
    if (!e) continue;
    blob.push_back(s);
    blob.push_back(static_cast<int32_t>(e->storage));
    blob.push_back(e->num_accepted);
    blob.push_back(static_cast<int32_t>(e->tokens.size()));
    blob.insert(blob.end(), e->tokens.begin(), e->tokens.end());
    blob.push_back(static_cast<int32_t>(e->bitset.size()));
    for (uint32_t w : e->bitset) blob.push_back(static_cast<int32_t>(w));
    blob.push_back(static_cast<int32_t>(e->uncertain.size()));
    blob.insert(blob.end(), e->uncertain.begin(), e->uncertain.end());
    blob.push_back(static_cast<int32_t>(e->counted.size()));
    blob.insert(blob.end(), e->counted.begin(), e->counted.end());
    blob.push_back(static_cast<int32_t>(e->counted_needed.size()));
    blob.insert(blob.end(), e->counted_needed.begin(), e->counted_needed.end());
  }
  return blob;
}

void TokenMaskCache::ImportEntries(const std::vector<int32_t>& blob) {
  int32_t vocab = tokenizer_->vocab_size();
  size_t pos = 0;
  auto take = [&](const char* what) -> int32_t {
    if (pos >= blob.size()) throw UsageError(std::string("serialized mask cache is truncated (") + what + ")");
    return blob[pos++];
  };
  auto take_ids = [&](std::vector<int32_t>* out, int32_t bound) {
    int32_t n = take("length");
    if (n < 0 || static_cast<size_t>(n) > blob.size() - pos) throw UsageError("serialized mask cache is corrupt");
    out->assign(blob.begin() + pos, blob.begin() + pos + n);
    pos += n;
    for (int32_t id : *out) {
      if (bound >= 0 && (id < 0 || id >= bound)) throw UsageError("serialized mask cache has an id out of range");
    }
  };
  while (pos < blob.size()) {
    int32_t state = take("state");
    if (state < 0 || state >= automaton_->num_states() || !automaton_->HasByteEdges(state)) {
      throw UsageError("serialized mask cache names state " + std::to_string(state) +
                       ", which this automaton does not have");
    }
    auto entry = std::make_unique<TokenMaskEntry>();
    int32_t storage = take("storage");
    if (storage < 0 || storage > 2) throw UsageError("serialized mask cache is corrupt");
    entry->storage = static_cast<TokenMaskEntry::Storage>(storage);
    entry->num_accepted = take("count");
    take_ids(&entry->tokens, vocab);
    std::vector<int32_t> words;
    take_ids(&words, -1);
    if (!words.empty() && static_cast<int64_t>(words.size()) != (vocab + 31) / 32) {
      throw UsageError("serialized mask cache has a bitset of the wrong size");
    }
    entry->bitset.assign(words.begin(), words.end());
    take_ids(&entry->uncertain, vocab);
    take_ids(&entry->counted, vocab);
    take_ids(&entry->counted_needed, kMaxCountedIterations + 1);
    if (entry->counted.size() != entry->counted_needed.size() ||
        !std::is_sorted(entry->counted_needed.begin(), entry->counted_needed.end()) ||
        (!entry->counted_needed.empty() && entry->counted_needed.front() < 1)) {
      throw UsageError("serialized mask cache has inconsistent counted tokens");
    }
    entry->BuildCountedBitsets(vocab);
    const TokenMaskEntry* expected = nullptr;
    if (entries_[state].compare_exchange_strong(expected, entry.get())) entry.release();
  }
}

}  // namespace xgram
