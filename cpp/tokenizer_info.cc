// Token decoding and the prefix trie (see tokenizer_info.h).
#include "tokenizer_info.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "errors.h"
#include "flat_set.h"
#include "utf8.h"

namespace xgram {
namespace {

// GPT-2's byte <-> printable code point table: bytes that are printable Latin-1
// map to themselves, the other 68 to U+0100.. in byte order.
const std::vector<int>& ByteLevelDecodeTable() {
  static const std::vector<int> table = [] {
    std::vector<int> code_to_byte(0x200, -1);
    int next = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      int code = printable ? b : 0x100 + next++;
      code_to_byte[code] = b;
    }
    return code_to_byte;
  }();
  return table;
}

bool ParseByteFallback(const std::string& piece, uint8_t* byte) {
  // "<0xNN>"
  if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>') return false;
  int value = 0;
  for (int i = 3; i < 5; ++i) {
    char c = piece[i];
    int v = (c >= '0' && c <= '9') ? c - '0'
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                     : -1;
    if (v < 0) return false;
    value = value * 16 + v;
  }
  *byte = static_cast<uint8_t>(value);
  return true;
}

}  // namespace

std::string TokenizerInfo::DecodeToken(const std::string& encoded, VocabType type) {
  switch (type) {
    case VocabType::kRaw:
      return encoded;
    case VocabType::kByteFallback: {
      uint8_t byte;
      if (ParseByteFallback(encoded, &byte)) return std::string(1, static_cast<char>(byte));
      std::string out;
      static const std::string kSpaceMark = "\xE2\x96\x81";  // U+2581
      for (size_t i = 0; i < encoded.size();) {
        if (encoded.compare(i, 3, kSpaceMark) == 0) {
          out.push_back(' ');
          i += 3;
        } else {
          out.push_back(encoded[i++]);
        }
      }
      return out;
    }
    case VocabType::kByteLevel: {
      const std::vector<int>& table = ByteLevelDecodeTable();
      std::string out;
      for (size_t i = 0; i < encoded.size();) {
        uint32_t cp;
        int len = DecodeUtf8(encoded, i, &cp);
        if (len == 0 || cp >= table.size() || table[cp] < 0) {
          // Not a byte-level token (e.g. an added token written in plain text).
          return encoded;
        }
        out.push_back(static_cast<char>(table[cp]));
        i += len;
      }
      return out;
    }
  }
  return encoded;
}

TokenizerInfo::TokenizerInfo(const std::vector<std::string>& encoded_vocab, VocabType vocab_type,
                             int32_t vocab_size, std::vector<int32_t> stop_token_ids,
                             std::vector<int32_t> special_token_ids, bool add_prefix_space)
    : vocab_type_(vocab_type),
      vocab_size_(vocab_size < 0 ? static_cast<int32_t>(encoded_vocab.size()) : vocab_size),
      add_prefix_space_(add_prefix_space),
      stop_token_ids_(std::move(stop_token_ids)) {
  if (vocab_size_ < static_cast<int32_t>(encoded_vocab.size())) {
    throw UsageError("vocab_size " + std::to_string(vocab_size_) +
                     " is smaller than the tokenizer's vocabulary (" +
                     std::to_string(encoded_vocab.size()) + " tokens)");
  }
  auto check_id = [this](int32_t id, const char* what) {
    if (id < 0 || id >= vocab_size_) {
      throw UsageError(std::string(what) + " id " + std::to_string(id) +
                       " is out of range [0, " + std::to_string(vocab_size_) + ")");
    }
  };
  decoded_vocab_.resize(vocab_size_);
  is_special_.assign(vocab_size_, 0);
  for (size_t i = 0; i < encoded_vocab.size(); ++i) {
    decoded_vocab_[i] = DecodeToken(encoded_vocab[i], vocab_type);
    if (decoded_vocab_[i].empty()) is_special_[i] = 1;
  }
  for (int32_t id = static_cast<int32_t>(encoded_vocab.size()); id < vocab_size_; ++id) {
    is_special_[id] = 1;  // padding of the model head
  }
  for (int32_t id : special_token_ids) {
    check_id(id, "special token");
    is_special_[id] = 1;
  }
  for (int32_t id : stop_token_ids_) {
    check_id(id, "stop token");
    is_special_[id] = 1;  // a stop token is never text
  }
  std::sort(stop_token_ids_.begin(), stop_token_ids_.end());
  stop_token_ids_.erase(std::unique(stop_token_ids_.begin(), stop_token_ids_.end()),
                        stop_token_ids_.end());
  for (int32_t id = 0; id < vocab_size_; ++id) {
    if (is_special_[id]) special_token_ids_.push_back(id);
  }
  BuildTrie();
  uint64_t h = MixHash(static_cast<uint64_t>(vocab_size_) * 31 + static_cast<int>(vocab_type_));
  for (int32_t id = 0; id < vocab_size_; ++id) {
    uint64_t th = 1469598103934665603ull;
    for (char c : decoded_vocab_[id]) th = (th ^ static_cast<uint8_t>(c)) * 1099511628211ull;
    h = MixHash(h ^ th ^ (static_cast<uint64_t>(is_special_[id]) << 63)) + id;
  }
  for (int32_t id : stop_token_ids_) h = MixHash(h ^ (0xABCDEFull + id));
  fingerprint_ = h;
}

void TokenizerInfo::BuildTrie() {
  std::vector<int32_t> order;
  for (int32_t id = 0; id < vocab_size_; ++id) {
    if (!is_special_[id]) order.push_back(id);
  }
  std::stable_sort(order.begin(), order.end(), [this](int32_t a, int32_t b) {
    return decoded_vocab_[a] < decoded_vocab_[b];
  });
  token_node_.assign(vocab_size_, -1);
  text_token_bits_.assign((vocab_size_ + 31) / 32, 0);
  for (int32_t id : order) text_token_bits_[id >> 5] |= 1u << (id & 31);
  trie_.clear();
  trie_token_ids_.clear();
  trie_.push_back({0, 0, 0, 0, 0});
  // `path[d]` is the node for the first d bytes of the previous token.
  std::vector<int32_t> path{0};
  const std::string* previous = nullptr;
  auto close_until = [&](size_t depth) {
    while (path.size() > depth + 1) {
      trie_[path.back()].subtree_end = static_cast<int32_t>(trie_.size());
      path.pop_back();
    }
  };
  for (int32_t id : order) {
    const std::string& bytes = decoded_vocab_[id];
    size_t common = 0;
    if (previous) {
      size_t limit = std::min(previous->size(), bytes.size());
      while (common < limit && (*previous)[common] == bytes[common]) ++common;
      common = std::min(common, path.size() - 1);
    }
    close_until(common);
    for (size_t d = common; d < bytes.size(); ++d) {
      int32_t node = static_cast<int32_t>(trie_.size());
      int32_t begin = static_cast<int32_t>(trie_token_ids_.size());
      trie_.push_back({static_cast<uint8_t>(bytes[d]), static_cast<uint16_t>(std::min<size_t>(d + 1, 65535)),
                       0, begin, begin});
      path.push_back(node);
    }
    // Tokens are appended in sorted order, so a node's tokens stay contiguous.
    TrieNode& leaf = trie_[path.back()];
    if (leaf.token_begin == leaf.token_end) {
      leaf.token_begin = leaf.token_end = static_cast<int32_t>(trie_token_ids_.size());
    }
    trie_token_ids_.push_back(id);
    leaf.token_end = static_cast<int32_t>(trie_token_ids_.size());
    token_node_[id] = path.back();
    previous = &bytes;
  }
  close_until(0);
  trie_[0].subtree_end = static_cast<int32_t>(trie_.size());
  ClassifyPlainNodes();
  BuildQuoteSuffixes();
}

void TokenizerInfo::ClassifyPlainNodes() {
  // UTF-8 state after a node's bytes: continuation bytes still expected, and the
  // range the next one must fall in (tighter after E0, ED, F0, F4).
  struct Utf8State {
    uint8_t pending = 0;
    uint8_t lo = 0x80, hi = 0xBF;
  };
  int32_t n = static_cast<int32_t>(trie_.size());
  trie_plain_.assign(n, 0);
  // Whether a node's subtree holds a token whose bytes are not plain.
  std::vector<uint8_t> has_nonplain_token(n, 0);
  std::vector<Utf8State> utf8(n);
  std::vector<int32_t> parent_of(n, -1);
  std::vector<int32_t> parent_at_depth{0};
  trie_plain_[0] = 1;
  for (int32_t i = 1; i < n; ++i) {
    const TrieNode& node = trie_[i];
    parent_at_depth.resize(node.depth);
    int32_t parent = parent_at_depth[node.depth - 1];
    parent_of[i] = parent;
    parent_at_depth.push_back(i);
    uint8_t b = node.byte;
    Utf8State st = utf8[parent];
    bool ok = trie_plain_[parent] != 0;
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
    trie_plain_[i] = ok;
    utf8[i] = st;
  }
  // Children come after their parents: one backward pass folds the flags upwards.
  for (int32_t i = n - 1; i >= 1; --i) {
    if (!trie_plain_[i] && trie_[i].token_begin < trie_[i].token_end) has_nonplain_token[i] = 1;
    if (has_nonplain_token[i]) has_nonplain_token[parent_of[i]] = 1;
  }
  for (int32_t i = 1; i < n; ++i) max_token_bytes_ = std::max<int32_t>(max_token_bytes_, trie_[i].depth);
  trie_region_next_.assign(n + 1, n);
  for (int32_t i = n - 1; i >= 1; --i) {
    bool skipped = trie_plain_[i] && !has_nonplain_token[i];
    trie_region_next_[i] = skipped ? trie_region_next_[trie_[i].subtree_end] : i;
  }
  // A control byte right after plain text, and subtrees with a non-plain token
  // not below such a byte.
  std::vector<uint8_t> control_dead(n, 0);
  std::vector<uint8_t> has_live_nonplain(n, 0);
  for (int32_t i = 1; i < n; ++i) {
    control_dead[i] = trie_[i].byte < 0x20 && trie_plain_[parent_of[i]];
  }
  // Tokens below a control-dead node are dead; the others that are not plain count.
  std::vector<uint8_t> under_dead(n, 0);
  for (int32_t i = 1; i < n; ++i) under_dead[i] = control_dead[i] || under_dead[parent_of[i]];
  for (int32_t i = n - 1; i >= 1; --i) {
    if (!trie_plain_[i] && !under_dead[i] && trie_[i].token_begin < trie_[i].token_end) has_live_nonplain[i] = 1;
    if (has_live_nonplain[i]) has_live_nonplain[parent_of[i]] = 1;
  }
  trie_below_ascii_.assign(2 * static_cast<size_t>(n), 0);
  trie_below_non_ascii_.assign(n, 0);
  trie_below_leads_.assign(n, 0);
  for (int32_t i = n - 1; i >= 1; --i) {
    int32_t p = parent_of[i];
    uint8_t b = trie_[i].byte;
    trie_below_ascii_[2 * p] |= trie_below_ascii_[2 * i];
    trie_below_ascii_[2 * p + 1] |= trie_below_ascii_[2 * i + 1];
    if (b < 0x80) {
      trie_below_ascii_[2 * p + b / 64] |= uint64_t{1} << (b % 64);
    } else {
      trie_below_non_ascii_[p] = 1;
      if (b >= 0xC2 && b <= 0xF4) trie_below_leads_[p] |= uint64_t{1} << (b - 0xC0);
    }
    trie_below_non_ascii_[p] |= trie_below_non_ascii_[i];
    trie_below_leads_[p] |= trie_below_leads_[i];
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
      int next = utf8_step(st, trie_[j].byte);
      if (next >= 0 && (children_clean[j] >> next & 1)) bits |= 1 << st;
    }
    children_clean[parent_of[j]] &= bits;
  }
  trie_utf8_clean_below_.assign(n, 0);
  for (int32_t i = 0; i < n; ++i) trie_utf8_clean_below_[i] = children_clean[i] & 1;
  trie_region_next_live_.assign(n + 1, n);
  for (int32_t i = n - 1; i >= 1; --i) {
    bool skipped = (trie_plain_[i] && !has_live_nonplain[i]) || control_dead[i];
    trie_region_next_live_[i] = skipped ? trie_region_next_live_[trie_[i].subtree_end] : i;
  }
  plain_by_first_byte_.assign(256, {});
  int32_t words = (vocab_size_ + 31) / 32;
  plain_all_.assign(words, 0);
  plain_list_by_first_byte_.assign(256, {});
  plain_at_position_.assign(trie_token_ids_.size(), 0);
  for (int32_t j = 1; j < n; ++j) {
    if (!trie_plain_[j]) continue;
    for (int32_t t = trie_[j].token_begin; t < trie_[j].token_end; ++t) plain_at_position_[t] = 1;
  }
  first_bytes_.clear();
  for (int32_t i = 1; i < n; i = trie_[i].subtree_end) {
    first_bytes_.push_back(trie_[i].byte);
    std::vector<uint32_t>& bits = plain_by_first_byte_[trie_[i].byte];
    bits.assign(words, 0);
    for (int32_t j = i; j < trie_[i].subtree_end; ++j) {
      if (!trie_plain_[j]) continue;
      for (int32_t t = trie_[j].token_begin; t < trie_[j].token_end; ++t) {
        int32_t id = trie_token_ids_[t];
        bits[id >> 5] |= 1u << (id & 31);
      }
    }
    for (int32_t w = 0; w < words; ++w) plain_all_[w] |= bits[w];
    std::vector<int32_t>& list = plain_list_by_first_byte_[trie_[i].byte];
    for (int32_t w = 0; w < words; ++w) {
      for (uint32_t m = bits[w]; m; m &= m - 1) list.push_back(w * 32 + __builtin_ctz(m));
    }
  }
}

void TokenizerInfo::BuildQuoteSuffixes() {
  int32_t n = static_cast<int32_t>(trie_.size());
  quote_suffix_node_.assign(n, -1);
  // Every suffix string, with the main-trie nodes that spell it. Sorted byte
  // strings are the depth-first pre-order of their trie (a prefix sorts first).
  std::map<std::string, std::vector<int32_t>> nodes_of_suffix;
  std::vector<int32_t> path{0};  // main-trie node per depth on the current path
  for (int32_t i = 1; i < n; ++i) {
    path.resize(trie_[i].depth);
    path.push_back(i);
    if (trie_[i].byte != '"' || !trie_plain_[path[trie_[i].depth - 1]]) continue;
    std::string suffix;
    for (int32_t j = i; j < trie_[i].subtree_end; ++j) {
      suffix.resize(trie_[j].depth - trie_[i].depth);
      suffix.push_back(static_cast<char>(trie_[j].byte));
      nodes_of_suffix[suffix].push_back(j);
    }
    i = trie_[i].subtree_end - 1;  // nested quotes are in this suffix already
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

size_t TokenizerInfo::MemoryBytes() const {
  size_t total = trie_.size() * sizeof(TrieNode) + trie_token_ids_.size() * 4 +
                 token_node_.size() * 4 + is_special_.size() + text_token_bits_.size() * 4 +
                 trie_plain_.size() * 2 + trie_utf8_clean_below_.size() + (trie_region_next_.size() + trie_region_next_live_.size()) * 4 +
                 (trie_below_ascii_.size() + trie_below_leads_.size()) * 8;
  for (const auto& bits : plain_by_first_byte_) total += bits.size() * 4;
  total += plain_all_.size() * 4 + plain_at_position_.size();
  total += quote_suffix_trie_.size() * sizeof(SuffixNode) + quote_suffix_node_.size() * 4;
  for (const auto& list : plain_list_by_first_byte_) total += list.size() * 4;
  for (const std::string& s : decoded_vocab_) total += s.capacity() + sizeof(std::string);
  return total;
}

}  // namespace xgram
