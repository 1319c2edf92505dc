// The mask walk's indexes over a vocabulary's trie (see mask_walk_index.h).
#include "mask_walk_index.h"

#include <map>
#include <string>

namespace xgram {

MaskWalkIndex::MaskWalkIndex(const TokenizerInfo& tok) {
  ClassifyPlainNodes(tok);
  BuildQuoteSuffixes(tok);
}

namespace {

// The parent of every trie node (-1 for the root): the trie is in depth-first
// pre-order, so the parent is the last node seen one level up.
std::vector<int32_t> ParentsOf(const std::vector<TrieNode>& trie) {
  int32_t n = static_cast<int32_t>(trie.size());
  std::vector<int32_t> parent_of(n, -1);
  std::vector<int32_t> parent_at_depth{0};
  for (int32_t i = 1; i < n; ++i) {
    parent_at_depth.resize(trie[i].depth);
    parent_of[i] = parent_at_depth[trie[i].depth - 1];
    parent_at_depth.push_back(i);
  }
  return parent_of;
}

}  // namespace

void MaskWalkIndex::ClassifyPlainNodes(const TokenizerInfo& tok) {
  const std::vector<TrieNode>& trie = tok.trie();
  std::vector<int32_t> parent_of = ParentsOf(trie);
  MarkPlainNodes(trie, parent_of);
  BuildRegionSkips(trie, parent_of);
  BuildBytesBelow(trie, parent_of);
  GroupPlainTokensByFirstByte(tok);
}

// Which nodes spell plain JSON string content: no '"', '\\' or control byte,
// valid UTF-8 so far (the last character may be incomplete).
void MaskWalkIndex::MarkPlainNodes(const std::vector<TrieNode>& trie, const std::vector<int32_t>& parent_of) {
  // UTF-8 state after a node's bytes: continuation bytes still expected, and the
  // range the next one must fall in (tighter after E0, ED, F0, F4).
  struct Utf8State {
    uint8_t pending = 0;
    uint8_t lo = 0x80, hi = 0xBF;
  };
  int32_t n = static_cast<int32_t>(trie.size());
  plain_node_.assign(n, 0);
  std::vector<Utf8State> utf8(n);
  plain_node_[0] = 1;
  for (int32_t i = 1; i < n; ++i) {
    int32_t parent = parent_of[i];
    uint8_t b = trie[i].byte;
    Utf8State st = utf8[parent];
    bool ok = plain_node_[parent] != 0;
    if (ok && st.pending > 0) {
      ok = b >= st.lo && b <= st.hi;
      st = Utf8State{static_cast<uint8_t>(st.pending - 1)};
    } else if (ok) {
      if (b < 0x80) {
        ok = b >= 0x20 && b != '"' && b != '\\';
      } else if (b >= 0xC2 && b <= 0xDF) {
        st = Utf8State{1};
      } else if (b >= 0xE0 && b <= 0xEF) {
        st = Utf8State{2, static_cast<uint8_t>(b == 0xE0 ? 0xA0 : 0x80),
                       static_cast<uint8_t>(b == 0xED ? 0x9F : 0xBF)};
      } else if (b >= 0xF0 && b <= 0xF4) {
        st = Utf8State{3, static_cast<uint8_t>(b == 0xF0 ? 0x90 : 0x80),
                       static_cast<uint8_t>(b == 0xF4 ? 0x8F : 0xBF)};
      } else {
        ok = false;
      }
    }
    plain_node_[i] = ok;
    utf8[i] = st;
  }
}

// Where a walk inside a plain-text region goes next (region_next_), and the
// same when control bytes after plain text kill a token (region_next_live_).
void MaskWalkIndex::BuildRegionSkips(const std::vector<TrieNode>& trie, const std::vector<int32_t>& parent_of) {
  int32_t n = static_cast<int32_t>(trie.size());
  // Whether a node's subtree holds a token whose bytes are not plain.
  std::vector<uint8_t> has_nonplain_token(n, 0);
  // Children come after their parents: one backward pass folds the flags upwards.
  for (int32_t i = n - 1; i >= 1; --i) {
    if (!plain_node_[i] && trie[i].token_begin < trie[i].token_end) has_nonplain_token[i] = 1;
    if (has_nonplain_token[i]) has_nonplain_token[parent_of[i]] = 1;
  }
  region_next_.assign(n + 1, n);
  for (int32_t i = n - 1; i >= 1; --i) {
    bool skipped = plain_node_[i] && !has_nonplain_token[i];
    region_next_[i] = skipped ? region_next_[trie[i].subtree_end] : i;
  }
  // A control byte right after plain text, and subtrees with a non-plain token
  // not below such a byte.
  std::vector<uint8_t> control_dead(n, 0);
  std::vector<uint8_t> has_live_nonplain(n, 0);
  for (int32_t i = 1; i < n; ++i) {
    control_dead[i] = trie[i].byte < 0x20 && plain_node_[parent_of[i]];
  }
  // Tokens below a control-dead node are dead; the others that are not plain count.
  std::vector<uint8_t> under_dead(n, 0);
  for (int32_t i = 1; i < n; ++i) under_dead[i] = control_dead[i] || under_dead[parent_of[i]];
  for (int32_t i = n - 1; i >= 1; --i) {
    if (!plain_node_[i] && !under_dead[i] && trie[i].token_begin < trie[i].token_end) has_live_nonplain[i] = 1;
    if (has_live_nonplain[i]) has_live_nonplain[parent_of[i]] = 1;
  }
  region_next_live_.assign(n + 1, n);
  for (int32_t i = n - 1; i >= 1; --i) {
    bool skipped = (plain_node_[i] && !has_live_nonplain[i]) || control_dead[i];
    region_next_live_[i] = skipped ? region_next_live_[trie[i].subtree_end] : i;
  }
}

// The bytes below each node: ASCII bitsets, non-ASCII, UTF-8 lead bytes, and
// whether every path below keeps UTF-8 well formed.
void MaskWalkIndex::BuildBytesBelow(const std::vector<TrieNode>& trie, const std::vector<int32_t>& parent_of) {
  int32_t n = static_cast<int32_t>(trie.size());
  below_ascii_.assign(2 * static_cast<size_t>(n), 0);
  below_non_ascii_.assign(n, 0);
  below_leads_.assign(n, 0);
  for (int32_t i = n - 1; i >= 1; --i) {
    int32_t p = parent_of[i];
    uint8_t b = trie[i].byte;
    below_ascii_[2 * p] |= below_ascii_[2 * i];
    below_ascii_[2 * p + 1] |= below_ascii_[2 * i + 1];
    if (b < 0x80) {
      below_ascii_[2 * p + b / 64] |= uint64_t{1} << (b % 64);
    } else {
      below_non_ascii_[p] = 1;
      if (b >= 0xC2 && b <= 0xF4) below_leads_[p] |= uint64_t{1} << (b - 0xC0);
    }
    below_non_ascii_[p] |= below_non_ascii_[i];
    below_leads_[p] |= below_leads_[i];
  }
  // Well-formedness below each node, as sets of UTF-8 decoder states: bit s of
  // a node's set says that reading its byte and then any path below it, from
  // decoder state s, never breaks UTF-8. States: 0 at a boundary; 1 one
  // continuation byte (80-BF) left; 2 two left; 3 two left after E0 (A0-BF
  // next); 4 two left after ED (80-9F next); 5 three left; 6 after F0 (90-BF
  // next); 7 after F4 (80-8F next).
  auto utf8_step = [](int s, uint8_t b) -> int {  // next state, or -1
    switch (s) {
      case 0:
        if (b < 0x80) return 0;
        if (b >= 0xC2 && b <= 0xDF) return 1;
        if (b == 0xE0) return 3;
        if (b == 0xED) return 4;
        if (b >= 0xE1 && b <= 0xEF) return 2;
        if (b == 0xF0) return 6;
        if (b == 0xF4) return 7;
        if (b >= 0xF1 && b <= 0xF3) return 5;
        return -1;
      case 1: return b >= 0x80 && b <= 0xBF ? 0 : -1;
      case 2: return b >= 0x80 && b <= 0xBF ? 1 : -1;
      case 3: return b >= 0xA0 && b <= 0xBF ? 1 : -1;
      case 4: return b >= 0x80 && b <= 0x9F ? 1 : -1;
      case 5: return b >= 0x80 && b <= 0xBF ? 2 : -1;
      case 6: return b >= 0x90 && b <= 0xBF ? 2 : -1;
      default: return b >= 0x80 && b <= 0x8F ? 2 : -1;
    }
  };
  std::vector<uint8_t> children_clean(n, 0xFF);  // bit s: every child's set has s
  for (int32_t j = n - 1; j >= 1; --j) {  // children come after their parents
    uint8_t bits = 0;
    for (int st = 0; st < 8; ++st) {
      int next = utf8_step(st, trie[j].byte);
      if (next >= 0 && (children_clean[j] >> next & 1)) bits |= 1 << st;
    }
    children_clean[parent_of[j]] &= bits;
  }
  utf8_clean_below_.assign(n, 0);
  for (int32_t i = 0; i < n; ++i) utf8_clean_below_[i] = children_clean[i] & 1;
}

// Plain tokens by first byte (bitsets and sorted lists), all plain tokens, and
// whether each trie_token_ids() position is plain.
void MaskWalkIndex::GroupPlainTokensByFirstByte(const TokenizerInfo& tok) {
  const std::vector<TrieNode>& trie = tok.trie();
  const std::vector<int32_t>& trie_token_ids = tok.trie_token_ids();
  const int32_t vocab_size = tok.vocab_size();
  int32_t n = static_cast<int32_t>(trie.size());
  plain_by_first_byte_.assign(256, {});
  int32_t words = (vocab_size + 31) / 32;
  plain_all_.assign(words, 0);
  plain_list_by_first_byte_.assign(256, {});
  plain_at_position_.assign(trie_token_ids.size(), 0);
  for (int32_t j = 1; j < n; ++j) {
    if (!plain_node_[j]) continue;
    for (int32_t t = trie[j].token_begin; t < trie[j].token_end; ++t) plain_at_position_[t] = 1;
  }
  first_bytes_.clear();
  for (int32_t i = 1; i < n; i = trie[i].subtree_end) {
    first_bytes_.push_back(trie[i].byte);
    std::vector<uint32_t>& bits = plain_by_first_byte_[trie[i].byte];
    bits.assign(words, 0);
    for (int32_t j = i; j < trie[i].subtree_end; ++j) {
      if (!plain_node_[j]) continue;
      for (int32_t t = trie[j].token_begin; t < trie[j].token_end; ++t) {
        int32_t id = trie_token_ids[t];
        bits[id >> 5] |= 1u << (id & 31);
      }
    }
    for (int32_t w = 0; w < words; ++w) plain_all_[w] |= bits[w];
    std::vector<int32_t>& list = plain_list_by_first_byte_[trie[i].byte];
    for (int32_t w = 0; w < words; ++w) {
      for (uint32_t m = bits[w]; m; m &= m - 1) list.push_back(w * 32 + __builtin_ctz(m));
    }
  }
}

void MaskWalkIndex::BuildQuoteSuffixes(const TokenizerInfo& tok) {
  const std::vector<TrieNode>& trie = tok.trie();
  int32_t n = static_cast<int32_t>(trie.size());
  quote_suffix_node_.assign(n, -1);
  // Every suffix string, with the main-trie nodes that spell it. Sorted byte
  // strings are the depth-first pre-order of their trie (a prefix sorts first).
  std::map<std::string, std::vector<int32_t>> nodes_of_suffix;
  std::vector<int32_t> path{0};  // main-trie node per depth on the current path
  for (int32_t i = 1; i < n; ++i) {
    path.resize(trie[i].depth);
    path.push_back(i);
    if (trie[i].byte != '"' || !plain_node_[path[trie[i].depth - 1]]) continue;
    std::string suffix;
    for (int32_t j = i; j < trie[i].subtree_end; ++j) {
      suffix.resize(trie[j].depth - trie[i].depth);
      suffix.push_back(static_cast<char>(trie[j].byte));
      nodes_of_suffix[suffix].push_back(j);
    }
    i = trie[i].subtree_end - 1;  // nested quotes are in this suffix already
  }
  quote_suffix_trie_.assign(1, SuffixNode{0, 0, 0});
  std::vector<int32_t> open{0};  // suffix-trie nodes on the current path
  for (const auto& [suffix, nodes] : nodes_of_suffix) {
    int32_t id = static_cast<int32_t>(quote_suffix_trie_.size());
    uint16_t depth = static_cast<uint16_t>(suffix.size());
    while (static_cast<int32_t>(open.size()) > depth) {
      quote_suffix_trie_[open.back()].subtree_end = id;
      open.pop_back();
    }
    open.push_back(id);
    quote_suffix_trie_.push_back(SuffixNode{static_cast<uint8_t>(suffix.back()), depth, 0});
    for (int32_t j : nodes) quote_suffix_node_[j] = id;
  }
  for (int32_t id : open) quote_suffix_trie_[id].subtree_end = static_cast<int32_t>(quote_suffix_trie_.size());
}

size_t MaskWalkIndex::MemoryBytes() const {
  // plain_node_ and utf8_clean_below_ hold a byte per node, below_non_ascii_ too.
  size_t total = plain_node_.size() + below_non_ascii_.size() + utf8_clean_below_.size() +
                 (region_next_.size() + region_next_live_.size()) * sizeof(int32_t) +
                 (below_ascii_.size() + below_leads_.size()) * sizeof(uint64_t);
  for (const auto& bits : plain_by_first_byte_) total += bits.size() * sizeof(uint32_t);
  for (const auto& list : plain_list_by_first_byte_) total += list.size() * sizeof(int32_t);
  total += plain_all_.size() * sizeof(uint32_t) + plain_at_position_.size() + first_bytes_.size();
  total += quote_suffix_trie_.size() * sizeof(SuffixNode) + quote_suffix_node_.size() * sizeof(int32_t);
  return total;
}

}  // namespace xgram
