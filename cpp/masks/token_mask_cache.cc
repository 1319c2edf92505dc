// Adaptive token-mask cache (see token_mask_cache.h).
#include "token_mask_cache.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <list>
#include <mutex>
#include <thread>
#include <tuple>
#include <type_traits>
#include <unordered_map>

#include "compile_control.h"
#include "errors.h"
#include "pushdown_matcher.h"
#include "trie_walk.h"

namespace xgram {

TokenMaskCache::TokenMaskCache(AutomatonPtr automaton, TokenizerInfoPtr tokenizer)
    : automaton_(std::move(automaton)), tokenizer_(std::move(tokenizer)), rows_(*automaton_) {
  int32_t n = automaton_->num_states();
  entries_.reset(new std::atomic<const TokenMaskEntry*>[n]);
  plain_loop_.reset(new std::atomic<int8_t>[n]);
  plain_leads_.reset(new std::atomic<uint64_t>[n]);
  loop_class_known_.reset(new std::atomic<uint8_t>[n]);
  loop_class_.reset(new std::atomic<uint64_t>[3 * static_cast<size_t>(n)]);
  for (int32_t i = 0; i < n; ++i) {
    entries_[i].store(nullptr, std::memory_order_relaxed);
    plain_loop_[i].store(-1, std::memory_order_relaxed);
    plain_leads_[i].store(0, std::memory_order_relaxed);
    loop_class_known_[i].store(0, std::memory_order_relaxed);
    for (size_t w = 0; w < 3; ++w) loop_class_[3 * static_cast<size_t>(i) + w].store(0, std::memory_order_relaxed);
  }
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
  // Between entries the compile's control (compile_control.h) is polled, by every worker.
  const CompileControl* control = CurrentCompileControl();
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  auto work = [&] {
    try {
      ScopedCompileControl scope(control);
      for (size_t i; (i = next.fetch_add(1)) < todo.size() && !failed;) {
        PollCompileControl();
        Get(todo[i]);
      }
    } catch (...) {
      if (!failed.exchange(true)) error = std::current_exception();
    }
  };
  std::vector<std::thread> workers;
  for (int t = 1; t < num_threads; ++t) workers.emplace_back(work);
  work();  // the calling thread is one of the workers
  for (std::thread& w : workers) w.join();
  if (error) std::rethrow_exception(error);
}

// The caller-independent part of an entry (layer A): tokens valid inside the
// state's rule whatever the caller, and tokens that get past the rule's end
// ("crossing"), both in trie order. Shared by every grammar compiled for the
// same tokenizer, under the state's structural hash.
struct InsideMask {
  std::vector<uint32_t> accepted_bits;  // by token id
  int32_t num_accepted = 0;
  std::vector<std::pair<int32_t, int32_t>> counted;  // (needed, id): fits in a repetition
  std::vector<int32_t> crossing_nodes;  // trie nodes holding crossing tokens, ascending
  size_t Bytes() const {
    return sizeof(*this) + (accepted_bits.capacity() + crossing_nodes.capacity()) * sizeof(int32_t) +
           counted.capacity() * sizeof(counted[0]);
  }
};

namespace {

using trie_walk::CheckPlainLoop;
using trie_walk::kNoPlainLoop;
using trie_walk::WalkResult;
using trie_walk::WalkTrie;

// Bounded by bytes (SetSharedMaskCacheLimit); when an insertion passes the
// limit, the least recently used masks leave (a grammar that still needs one
// recomputes it: the store saves work, it holds nothing a grammar depends on).
class SharedInsideMasks {
 public:
  std::shared_ptr<const InsideMask> Find(uint64_t tokenizer, uint64_t state_hash) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = masks_.find({tokenizer, state_hash});
    if (it == masks_.end()) return nullptr;
    order_.splice(order_.end(), order_, it->second.position);  // now the most recent
    return it->second.mask;
  }
  void Insert(uint64_t tokenizer, uint64_t state_hash, std::shared_ptr<const InsideMask> mask) {
    std::lock_guard<std::mutex> lock(mutex_);
    Key key{tokenizer, state_hash};
    auto [it, inserted] = masks_.emplace(key, Slot{std::move(mask), order_.end()});
    if (!inserted) return;  // another thread computed it first: equal, keep that one
    it->second.position = order_.insert(order_.end(), key);
    bytes_ += SlotBytes(it->second);
    EvictOver(limit_bytes_);
  }
  void SetLimit(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    limit_bytes_ = bytes;
    EvictOver(limit_bytes_);
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    EvictOver(0);
  }
  // (entries, bytes, limit in bytes)
  std::tuple<size_t, size_t, size_t> Info() {
    std::lock_guard<std::mutex> lock(mutex_);
    return {masks_.size(), bytes_, limit_bytes_};
  }

 private:
  using Key = std::pair<uint64_t, uint64_t>;
  struct KeyHash {
    size_t operator()(const Key& k) const { return MixHash(k.first ^ (k.second * 31)); }
  };
  struct Slot {
    std::shared_ptr<const InsideMask> mask;
    std::list<Key>::iterator position;  // in order_
  };
  // The mask, its map node and its place in the recency list.
  static size_t SlotBytes(const Slot& slot) {
    return slot.mask->Bytes() + sizeof(Slot) + sizeof(Key) + 8 * sizeof(void*);
  }
  void EvictOver(size_t limit) {
    while (bytes_ > limit && !order_.empty()) {
      auto it = masks_.find(order_.front());
      bytes_ -= SlotBytes(it->second);
      masks_.erase(it);
      order_.pop_front();
    }
  }
  std::mutex mutex_;
  std::unordered_map<Key, Slot, KeyHash> masks_;
  std::list<Key> order_;  // least recently used first
  size_t bytes_ = 0;
  size_t limit_bytes_ = kDefaultSharedMaskCacheLimit;
};

SharedInsideMasks& SharedMasks() {
  static SharedInsideMasks* masks = new SharedInsideMasks();  // never destroyed: used at exit
  return *masks;
}

// Sorts (needed, id) pairs. A length-bounded string makes nearly the whole
// vocabulary counted, a comparison sort of a vocabulary's worth of pairs.
// Ids are distinct and `needed` is small, so a counting sort by `needed` over
// the ids in ascending order gives the same order in linear time.
void SortCounted(std::vector<std::pair<int32_t, int32_t>>* counted, int32_t vocab_size) {
  if (counted->size() < 256) {
    std::sort(counted->begin(), counted->end());
    return;
  }
  std::vector<uint8_t> needed_of(vocab_size, 0);
  std::array<int32_t, kMaxCountedIterations + 2> bucket{};
  for (const auto& [needed, id] : *counted) {
    if (needed < 1 || needed > kMaxCountedIterations || id < 0 || id >= vocab_size || needed_of[id] != 0) {
      std::sort(counted->begin(), counted->end());  // not the expected shape
      return;
    }
    needed_of[id] = static_cast<uint8_t>(needed);
    ++bucket[needed + 1];
  }
  for (int32_t k = 1; k <= kMaxCountedIterations; ++k) bucket[k + 1] += bucket[k];
  for (int32_t id = 0; id < vocab_size; ++id) {
    if (needed_of[id] != 0) (*counted)[bucket[needed_of[id]]++] = {needed_of[id], id};
  }
}

// Set bits of a bitset. __builtin_popcount compiles to a call into libgcc's
// fallback unless the target has POPCNT (not assumed, so the module runs on any
// x86-64), a call per word on every first visit of a state. So: the POPCNT
// instruction when the CPU has it (asked once), else a SWAR sum, a dozen inline
// operations per 64 bits.
int32_t CountBitsPortable(const uint32_t* words, size_t n) {
  int64_t total = 0;
  size_t i = 0;
  for (; i + 1 < n; i += 2) {
    uint64_t x = words[i] | (uint64_t{words[i + 1]} << 32);
    x -= (x >> 1) & 0x5555555555555555ull;
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    total += static_cast<int64_t>((x * 0x0101010101010101ull) >> 56);
  }
  for (; i < n; ++i) {
    for (uint32_t x = words[i]; x; x &= x - 1) ++total;
  }
  return static_cast<int32_t>(total);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("popcnt"))) int32_t CountBitsPopcnt(const uint32_t* words, size_t n) {
  int64_t total = 0;
  size_t i = 0;
  for (; i + 1 < n; i += 2) {
    uint64_t x;
    std::memcpy(&x, words + i, sizeof(x));
    total += __builtin_popcountll(x);
  }
  if (i < n) total += __builtin_popcount(words[i]);
  return static_cast<int32_t>(total);
}

int32_t CountBits(const std::vector<uint32_t>& words) {
  static const bool has_popcnt = __builtin_cpu_supports("popcnt");
  return has_popcnt ? CountBitsPopcnt(words.data(), words.size())
                    : CountBitsPortable(words.data(), words.size());
}
#else
int32_t CountBits(const std::vector<uint32_t>& words) { return CountBitsPortable(words.data(), words.size()); }
#endif

// The trie nodes of `ids`, ascending and distinct.
std::vector<int32_t> SortedNodesOf(const TokenizerInfo& tok, const std::vector<int32_t>& ids) {
  std::vector<int32_t> nodes;
  nodes.reserve(ids.size());
  for (int32_t id : ids) nodes.push_back(tok.token_node()[id]);
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  return nodes;
}

// Walks only the trie nodes in `nodes` (ascending) from `state`, past its
// rule's end: into every call site (callers == nullptr, Layer B) or into the
// given callers (Layer C). `on_node(i, result)` sees each listed node reached.
template <typename OnNode>
void WalkListedNodes(const AutomatonPtr& automaton, const trie_walk::TransitionRows& rows,
                     const TokenizerInfo& tok, StateId state,
                     const std::vector<int32_t>& nodes, const CallerFrame* callers, int32_t num_callers,
                     OnNode on_node) {
  if (nodes.empty()) return;
  const std::vector<TrieNode>& trie = tok.trie();
  // The walk asks about trie nodes in ascending order, so the first listed node
  // at or after `i` is searched from the previous answer on, with steps that
  // double (a gap costs its logarithm, and a dead subtree holding many listed
  // nodes is passed in a few steps).
  const int32_t* first = nodes.data();
  const int32_t* last = first + nodes.size();
  const int32_t* cursor = first;
  auto seek = [&](int32_t i) {
    if (cursor == last || *cursor >= i) return;
    size_t step = 1;
    const int32_t* low = cursor;
    while (static_cast<size_t>(last - low) > step && low[step] < i) low += step, step *= 2;
    cursor = std::lower_bound(low, std::min(low + step + 1, last), i);
  };
  // The walker: enters only subtrees holding a listed node, reports only them.
  struct ListedNodesWalker : trie_walk::WalkHooks {
    const std::vector<TrieNode>& trie;
    decltype(seek)& seek_to;
    const int32_t*& cursor;
    const int32_t* last;
    OnNode& on_node;
    bool Visit(int32_t i) {
      seek_to(i);
      return cursor != last && *cursor < trie[i].subtree_end;
    }
    void OnTokens(int32_t i, const WalkResult& r) {
      seek_to(i);
      if (cursor != last && *cursor == i) on_node(i, r);
    }
  };
  ListedNodesWalker walker{{}, trie, seek, cursor, last, on_node};
  trie_walk::WalkStart start;
  start.state = state;
  start.escape = true;
  start.callers = callers;
  start.num_callers = num_callers;
  WalkTrie(automaton, rows, tok, start, walker);
}

}  // namespace

void ClearSharedMaskCache() { SharedMasks().Clear(); }
size_t SharedMaskCacheBytes() { return std::get<1>(SharedMasks().Info()); }
size_t SharedMaskCacheSize() { return std::get<0>(SharedMasks().Info()); }
size_t SharedMaskCacheLimit() { return std::get<2>(SharedMasks().Info()); }
void SetSharedMaskCacheLimit(size_t bytes) { SharedMasks().SetLimit(bytes); }

trie_walk::LoopSet TokenMaskCache::ComputeLoopClass(StateId state, bool with_leads) const {
  const Automaton& a = *automaton_;
  trie_walk::LoopSet loop;
  bool simple = trie_walk::StepsAsDfa(a, state);  // the walk asks only in DFA mode
  if (simple) {
    for (int32_t j = a.byte_edge_begin[state]; j < a.byte_edge_begin[state + 1]; ++j) {
      const ByteEdge& e = a.byte_edges[j];
      if (e.target != state) continue;
      for (int b = e.lo; b <= e.hi && b < 0x80; ++b) loop.ascii[b / 64] |= uint64_t{1} << (b % 64);
    }
  }
  if (with_leads && simple && (loop.ascii[0] | loop.ascii[1])) {
    std::vector<StateId> inside_characters;
    loop.leads = trie_walk::MultibyteLoopLeads(a, state, &inside_characters);
  }
  loop_class_[3 * static_cast<size_t>(state)].store(loop.ascii[0], std::memory_order_relaxed);
  loop_class_[3 * static_cast<size_t>(state) + 1].store(loop.ascii[1], std::memory_order_relaxed);
  if (with_leads) loop_class_[3 * static_cast<size_t>(state) + 2].store(loop.leads, std::memory_order_relaxed);
  // Never lowers 2 to 1: a thread that knows the leads keeps them known.
  uint8_t known = with_leads ? 2 : 1;
  uint8_t current = loop_class_known_[state].load(std::memory_order_relaxed);
  while (current < known &&
         !loop_class_known_[state].compare_exchange_weak(current, known, std::memory_order_release)) {
  }
  return loop;
}

int8_t TokenMaskCache::ComputePlainLoop(StateId state) const {
  int8_t known = CheckPlainLoop(*automaton_, state);
  plain_loop_[state].store(known, std::memory_order_relaxed);
  return known;
}

uint64_t TokenMaskCache::ComputePlainLeads(StateId state) const {
  trie_walk::PlainLeads found =
      trie_walk::LeadsIntoPlainLoops(*automaton_, state, [this](StateId s) { return LoopsOnPlainText(s); });
  uint64_t known = found.leads | kPlainLeadsKnown | (found.kind == trie_walk::kPlainLoopNoControl ? kPlainLeadsNoControl : 0);
  plain_leads_[state].store(known, std::memory_order_relaxed);
  return known;
}

namespace {

// ORs the plain tokens of the first-byte subtrees a walk accepted as regions
// (`in_region[b]`) into `bits`: list by list, or, when they are most of the
// plain tokens (free text), as all plain tokens less the other subtrees'.
// Decided by token counts: the first bytes past ASCII (lead bytes, byte
// fallbacks) are many but hold few tokens, and counting bytes sent free text
// down the list path, one scattered bit per token.
void OrPlainFirstByteRegions(const MaskWalkIndex& index, const std::array<uint8_t, 256>& in_region,
                             std::vector<uint32_t>* bits) {
  const std::vector<uint8_t>& first_bytes = index.first_bytes();
  size_t tokens_in_regions = 0, tokens_outside = 0;
  for (uint8_t b : first_bytes) {
    (in_region[b] ? tokens_in_regions : tokens_outside) += index.plain_token_list_by_first_byte(b).size();
  }
  // Sets (or clears) in `words` the plain tokens of the first bytes in (or out of) the regions.
  auto merge = [&](std::vector<uint32_t>* out, bool from_regions, bool set) {
    std::vector<uint32_t>& words = *out;
    for (uint8_t b : first_bytes) {
      if ((in_region[b] != 0) != from_regions) continue;
      const std::vector<int32_t>& list = index.plain_token_list_by_first_byte(b);
      if (list.empty()) continue;
      if (list.size() * 4 < words.size()) {
        for (int32_t id : list) {
          if (set) {
            words[id >> 5] |= 1u << (id & 31);
          } else {
            words[id >> 5] &= ~(1u << (id & 31));
          }
        }
      } else {
        const std::vector<uint32_t>& first = index.plain_tokens_by_first_byte(b);
        for (size_t w = 0; w < words.size(); ++w) words[w] = set ? words[w] | first[w] : words[w] & ~first[w];
      }
    }
  };
  if (tokens_in_regions > tokens_outside + bits->size()) {
    std::vector<uint32_t> region = index.plain_tokens();
    merge(&region, /*from_regions=*/false, /*set=*/false);
    for (size_t w = 0; w < region.size(); ++w) (*bits)[w] |= region[w];
  } else {
    merge(bits, /*from_regions=*/true, /*set=*/true);
  }
}

}  // namespace

// The walker: a live token is accepted, counted (it fits in a few more
// iterations of a counted repetition) or crossing (it gets past the rule's
// end: Layer B decides it); plain-text and loop-class regions accept whole
// subtrees, first-byte subtrees after the walk.
struct TokenMaskCache::InsideWalker : trie_walk::WalkHooks {
  const TokenMaskCache& cache;
  const std::vector<TrieNode>& trie;
  const std::vector<int32_t>& trie_tokens;
  const TokenizerInfo& tok;
  InsideMask& out;
  std::array<uint8_t, 256> region_first_byte{};
  int32_t num_region_first_bytes = 0;

  using PlainRegions = std::true_type;
  using LoopClasses = std::true_type;
  void Accept(int32_t position) {
    int32_t id = trie_tokens[position];
    out.accepted_bits[id >> 5] |= 1u << (id & 31);
  }
  void OnTokens(int32_t i, const WalkResult& r) {
    const TrieNode& node = trie[i];
    if (r.valid_everywhere) {
      for (int32_t t = node.token_begin; t < node.token_end; ++t) Accept(t);
    } else if (r.needed <= kMaxCountedIterations) {
      for (int32_t t = node.token_begin; t < node.token_end; ++t) out.counted.push_back({r.needed, trie_tokens[t]});
    } else {
      out.crossing_nodes.push_back(i);
    }
  }
  void OnDead(int32_t i, bool ended_before) {
    if (!ended_before) return;  // dead everywhere: rejected
    for (int32_t j = i; j < trie[i].subtree_end; ++j) {
      if (trie[j].token_begin < trie[j].token_end) out.crossing_nodes.push_back(j);
    }
  }
  int8_t PlainLoop(StateId s) { return cache.LoopsOnPlainText(s); }
  int8_t PlainAfterLead(StateId s, uint8_t lead) { return cache.PlainAfterLead(s, lead); }
  void OnPlainRegion(int32_t i) {
    const TrieNode& node = trie[i];
    if (node.depth == 1) {  // merged after the walk (OrPlainFirstByteRegions)
      region_first_byte[node.byte] = 1;
      ++num_region_first_bytes;
      return;
    }
    const std::vector<uint8_t>& plain_at = tok.walk_index().plain_at_position();
    for (int32_t t = node.token_begin, end = tok.SubtreeTokenEnd(i); t < end; ++t) {
      if (plain_at[t]) Accept(t);
    }
  }
  trie_walk::LoopSet LoopClass(StateId s, bool with_leads) { return cache.LoopClass(s, with_leads); }
  void OnLoopSubtree(int32_t i) {
    for (int32_t t = trie[i].token_end, end = tok.SubtreeTokenEnd(i); t < end; ++t) Accept(t);
  }
};

std::shared_ptr<const InsideMask> TokenMaskCache::WalkInside(StateId state, bool self_repeat) const {
  const TokenizerInfo& tok = *tokenizer_;
  const Automaton& a = *automaton_;
  auto computed = std::make_shared<InsideMask>();
  computed->accepted_bits.assign((tok.vocab_size() + 31) / 32, 0);
  InsideWalker walker{{}, *this, tok.trie(), tok.trie_token_ids(), tok, *computed};
  // Inside the rule, and into further iterations of it when this grammar
  // repeats it with a counter.
  trie_walk::WalkStart start;
  start.state = state;
  start.self_repeat = self_repeat;
  start.flat_repeat_start = self_repeat ? trie_walk::FlatRepeatStart(a, a.state_rule[state]) : kNone;
  start.share_quote_suffixes = true;
  WalkTrie(automaton_, rows_, tok, start, walker);
  if (walker.num_region_first_bytes > 0) {
    OrPlainFirstByteRegions(tok.walk_index(), walker.region_first_byte, &computed->accepted_bits);
  }
  computed->num_accepted = CountBits(computed->accepted_bits);
  // The walk reports nodes in ascending order, so this is normally a check.
  std::vector<int32_t>& crossing = computed->crossing_nodes;
  if (!std::is_sorted(crossing.begin(), crossing.end())) std::sort(crossing.begin(), crossing.end());
  return computed;
}

TokenMaskEntry TokenMaskCache::Compute(StateId state) const {
  TokenMaskEntry entry;
  if (!automaton_->HasByteEdges(state)) return entry;
  const TokenizerInfo& tok = *tokenizer_;
  const std::vector<TrieNode>& trie = tok.trie();
  const std::vector<int32_t>& trie_tokens = tok.trie_token_ids();

  // Layer A, shared: walk without escaping the rule, except into further
  // iterations of it when this grammar repeats it with a counter.
  const Automaton& a = *automaton_;
  RuleId rule = a.state_rule[state];
  bool self_repeat = false;
  for (int32_t i = a.call_site_begin[rule]; i < a.call_site_begin[rule + 1]; ++i) {
    self_repeat |= a.call_edges[a.call_site_edges[i]].is_counted();
  }
  // A rule nothing calls has no crossing tokens (trie_walk::EndLeadsNowhere),
  // unlike a called rule of the same structure: their parts are not shared.
  bool end_leads_nowhere = trie_walk::EndLeadsNowhere(a, rule);
  uint64_t key =
      MixHash(automaton_->state_hash[state] + (self_repeat ? 0x5E1F : 0) + (end_leads_nowhere ? 0xE4D : 0));
  std::shared_ptr<const InsideMask> inside = SharedMasks().Find(tok.Fingerprint(), key);
  if (!inside) {
    inside = WalkInside(state, self_repeat);
    SharedMasks().Insert(tok.Fingerprint(), key, inside);
  }

  // Layer B, per grammar: follow the crossing tokens into every context. A
  // rule called from many places (JSON whitespace: thousands) makes that walk
  // slow and its verdict weak; there it waits until a thread without known
  // callers needs it (GetEscaped), and Layer C decides the crossing tokens.
  std::vector<std::pair<int32_t, int32_t>> counted = inside->counted;  // (needed, id)
  int32_t num_sites = a.call_site_begin[rule + 1] - a.call_site_begin[rule];
  if (num_sites > kEagerEscapeCallSites && !inside->crossing_nodes.empty()) {
    entry.escape_deferred = true;
    entry.uncertain_nodes = inside->crossing_nodes;
    for (int32_t i : inside->crossing_nodes) {
      for (int32_t t = trie[i].token_begin; t < trie[i].token_end; ++t) entry.uncertain.push_back(trie_tokens[t]);
    }
  } else {
    WalkEscapes(state, inside->crossing_nodes, &counted, &entry.uncertain);
    entry.uncertain_nodes = SortedNodesOf(tok, entry.uncertain);
  }
  const std::vector<uint32_t>& accepted_bits = inside->accepted_bits;

  // A counted token that overflows the repetition can only be valid by leaving
  // it. When every exit of the repetition is followed by a byte plain text never
  // holds ('"', '\\', a control byte), a plain token cannot leave: reject it
  // outright instead of checking it on every fill (length-bounded strings).
  bool exits_need_nonplain = a.rules[rule].is_helper;
  for (int32_t i = a.call_site_begin[rule]; exits_need_nonplain && i < a.call_site_begin[rule + 1]; ++i) {
    StateId t = a.call_edges[a.call_site_edges[i]].target;
    if (!a.IsSimple(t)) {
      exits_need_nonplain = false;
      break;
    }
    for (int32_t j = a.byte_edge_begin[t]; j < a.byte_edge_begin[t + 1]; ++j) {
      const ByteEdge& e = a.byte_edges[j];
      bool nonplain = e.hi < 0x20 || (e.lo == e.hi && (e.lo == '"' || e.lo == '\\'));
      if (!nonplain) exits_need_nonplain = false;
    }
  }
  const std::vector<uint8_t>& plain_nodes = tok.walk_index().plain_node();
  const std::vector<int32_t>& node_of = tok.token_node();
  SortCounted(&counted, tok.vocab_size());
  for (const auto& [needed, id] : counted) {
    entry.counted_needed.push_back(needed);
    entry.counted.push_back(id);
    entry.counted_may_exit.push_back(!(exits_need_nonplain && plain_nodes[node_of[id]]));
  }
  entry.BuildCountedBitsets(tok.vocab_size());
  entry.num_accepted = inside->num_accepted;
  int64_t num_text_tokens = static_cast<int64_t>(trie_tokens.size());
  int64_t num_rejected = num_text_tokens - entry.num_accepted -
                         static_cast<int64_t>(entry.uncertain.size()) -
                         static_cast<int64_t>(entry.counted.size());
  int64_t bitset_words = static_cast<int64_t>(accepted_bits.size());
  // Ids of the set bits of `words`, ascending.
  auto append_ids = [](const std::vector<uint32_t>& words, std::vector<int32_t>* out) {
    for (size_t w = 0; w < words.size(); ++w) {
      for (uint32_t bits = words[w]; bits; bits &= bits - 1) {
        out->push_back(static_cast<int32_t>(w * 32 + __builtin_ctz(bits)));
      }
    }
  };
  if (entry.num_accepted <= bitset_words) {
    entry.storage = TokenMaskEntry::Storage::kAcceptedList;
    entry.tokens.reserve(entry.num_accepted);
    append_ids(accepted_bits, &entry.tokens);
  } else if (num_rejected <= bitset_words) {
    entry.storage = TokenMaskEntry::Storage::kRejectedList;
    std::vector<uint32_t> rejected = tok.text_token_bits();
    for (size_t w = 0; w < rejected.size(); ++w) rejected[w] &= ~accepted_bits[w];
    for (int32_t id : entry.uncertain) rejected[id >> 5] &= ~(1u << (id & 31));
    for (int32_t id : entry.counted) rejected[id >> 5] &= ~(1u << (id & 31));
    append_ids(rejected, &entry.tokens);
  } else {
    entry.storage = TokenMaskEntry::Storage::kAcceptedBitset;
    entry.bitset = accepted_bits;
  }
  entry.tokens.shrink_to_fit();
  entry.uncertain.shrink_to_fit();
  return entry;
}

void TokenMaskCache::WalkEscapes(StateId state, const std::vector<int32_t>& crossing,
                                 std::vector<std::pair<int32_t, int32_t>>* counted,
                                 std::vector<int32_t>* uncertain) const {
  const TokenizerInfo& tok = *tokenizer_;
  const std::vector<TrieNode>& trie = tok.trie();
  const std::vector<int32_t>& trie_tokens = tok.trie_token_ids();
  WalkListedNodes(automaton_, rows_, tok, state, crossing, /*callers=*/nullptr, 0, [&](int32_t i, const WalkResult& r) {
    for (int32_t t = trie[i].token_begin; t < trie[i].token_end; ++t) {
      if (r.needed <= kMaxCountedIterations) {
        counted->push_back({r.needed, trie_tokens[t]});
      } else {
        uncertain->push_back(trie_tokens[t]);
      }
    }
  });
}

const std::vector<int32_t>& TokenMaskCache::GetEscaped(StateId state) {
  {
    std::lock_guard<std::mutex> lock(context_mutex_);
    auto it = escaped_.find(state);
    if (it != escaped_.end()) return *it->second;
  }
  const TokenMaskEntry& base = Get(state);
  std::vector<std::pair<int32_t, int32_t>> counted;
  auto ids = std::make_unique<std::vector<int32_t>>();
  WalkEscapes(state, base.uncertain_nodes, &counted, ids.get());
  // Counted ones are checked too: a thread without known callers is rare.
  for (const auto& [needed, id] : counted) ids->push_back(id);
  const std::vector<int32_t>& node_of = tokenizer_->token_node();
  std::sort(ids->begin(), ids->end(), [&node_of](int32_t x, int32_t y) { return node_of[x] < node_of[y]; });
  std::lock_guard<std::mutex> lock(context_mutex_);
  auto [it, inserted] = escaped_.emplace(state, std::move(ids));
  return *it->second;
}

// Layer C, per grammar and context: the uncertain tokens of `state` walked again
// with the live thread's known callers (a tree of parent edges), so most of
// them are decided once instead of being checked on every fill. Only callers
// beyond those stay unknown.
uint64_t TokenMaskCache::ContextKey(StateId state, const CallerFrame* callers, int32_t num_callers) {
  uint64_t h = MixHash(static_cast<uint32_t>(state));
  for (int32_t i = 0; i < num_callers; ++i) {
    const CallerFrame& f = callers[i];
    h = MixHash(h ^ ((static_cast<uint64_t>(static_cast<uint32_t>(f.return_state)) << 32) |
                     static_cast<uint32_t>(f.call_edge)));
    h = MixHash(h ^ ((static_cast<uint64_t>(static_cast<uint32_t>(f.from)) << 32) |
                     static_cast<uint32_t>(f.count)));
  }
  return h;
}

const ContextMaskEntry& TokenMaskCache::GetInContext(StateId state, const CallerFrame* callers,
                                                     int32_t num_callers, uint64_t context_key) {
  // The fill path: no allocation unless the entry is new.
  auto same = [&](const std::vector<int32_t>& key) {
    if (key.size() != 1 + 4 * static_cast<size_t>(num_callers) || key[0] != state) return false;
    for (int32_t i = 0; i < num_callers; ++i) {
      const CallerFrame& f = callers[i];
      const int32_t* k = key.data() + 1 + 4 * i;
      if (k[0] != f.from || k[1] != f.return_state || k[2] != f.call_edge || k[3] != f.count) return false;
    }
    return true;
  };
  {
    std::lock_guard<std::mutex> lock(context_mutex_);
    auto range = context_entries_.equal_range(context_key);
    for (auto it = range.first; it != range.second; ++it) {
      if (same(it->second->key)) return *it->second;
    }
  }
  std::vector<int32_t> full_key{state};
  for (int32_t i = 0; i < num_callers; ++i) {
    const CallerFrame& f = callers[i];
    full_key.insert(full_key.end(), {f.from, f.return_state, f.call_edge, f.count});
  }
  const TokenMaskEntry& base = Get(state);
  const TokenizerInfo& tok = *tokenizer_;
  const std::vector<TrieNode>& trie = tok.trie();
  const std::vector<int32_t>& trie_tokens = tok.trie_token_ids();
  const std::vector<int32_t>& nodes = base.uncertain_nodes;
  auto computed = std::make_unique<ContextMaskEntry>();
  computed->key = std::move(full_key);
  WalkListedNodes(automaton_, rows_, tok, state, nodes, callers, num_callers, [&](int32_t i, const WalkResult& r) {
    std::vector<int32_t>& out = r.valid_everywhere ? computed->accepted : computed->uncertain;
    for (int32_t t = trie[i].token_begin; t < trie[i].token_end; ++t) out.push_back(trie_tokens[t]);
  });
  // Every token of a trie node is decided alike by each layer, so the walk
  // over the uncertain nodes yields exactly the uncertain ids.
  computed->accepted.shrink_to_fit();
  computed->uncertain.shrink_to_fit();
  std::lock_guard<std::mutex> lock(context_mutex_);
  auto range = context_entries_.equal_range(context_key);
  for (auto it = range.first; it != range.second; ++it) {
    if (same(it->second->key)) return *it->second;  // another thread was first
  }
  return *context_entries_.emplace(context_key, std::move(computed))->second;
}

size_t TokenMaskCache::MemoryBytes() const {
  // Per state: the entry pointer and the memos (plain loop, plain leads, loop class known, loop class).
  constexpr size_t kPerState = sizeof(void*) + sizeof(int8_t) + sizeof(uint64_t) + sizeof(uint8_t) +
                               3 * sizeof(uint64_t);
  // An unordered map's node: the pair, the next pointer, the cached hash; and its bucket.
  constexpr size_t kMapNodeBytes = 3 * sizeof(void*);
  size_t total = sizeof(*this) + automaton_->num_states() * kPerState + rows_.MemoryBytes();
  for (int32_t i = 0; i < automaton_->num_states(); ++i) {
    if (const TokenMaskEntry* e = entries_[i].load()) total += e->MemoryBytes();
  }
  // The entries that grow as new contexts are met (Layer C) and the expanded
  // crossing-token sets (GetEscaped).
  std::lock_guard<std::mutex> lock(context_mutex_);
  for (const auto& [key, entry] : context_entries_) {
    total += kMapNodeBytes + sizeof(uint64_t) + sizeof(*entry) +
             (entry->key.capacity() + entry->accepted.capacity() + entry->uncertain.capacity()) * sizeof(int32_t);
  }
  for (const auto& [state, ids] : escaped_) {
    total += kMapNodeBytes + sizeof(state) + sizeof(*ids) + ids->capacity() * sizeof(int32_t);
  }
  total += (context_entries_.bucket_count() + escaped_.bucket_count()) * sizeof(void*);
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
    const size_t bitset_words = entry->storage == TokenMaskEntry::Storage::kAcceptedBitset ? (vocab + 31) / 32 : 0;
    if (words.size() != bitset_words || entry->num_accepted < 0) {  // a fill reads all the words
      throw UsageError("serialized mask cache has a bitset of the wrong size");
    }
    entry->bitset.assign(words.begin(), words.end());
    take_ids(&entry->uncertain, vocab);
    entry->uncertain_nodes = SortedNodesOf(*tokenizer_, entry->uncertain);
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
