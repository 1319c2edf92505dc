// Token decoding and the prefix trie (see tokenizer_info.h).
#include "tokenizer_info.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "errors.h"
#include "flat_set.h"
#include "mask_walk_index.h"
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
  walk_index_ = std::make_shared<const MaskWalkIndex>(*this);
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
  for (const TrieNode& node : trie_) max_token_bytes_ = std::max<int32_t>(max_token_bytes_, node.depth);
}

size_t TokenizerInfo::MemoryBytes() const {
  size_t total = trie_.size() * sizeof(TrieNode) + trie_token_ids_.size() * sizeof(int32_t) +
                 token_node_.size() * sizeof(int32_t) + is_special_.size() + text_token_bits_.size() * sizeof(uint32_t);
  for (const std::string& s : decoded_vocab_) total += s.capacity() + sizeof(std::string);
  return total + walk_index_->MemoryBytes();
}

}  // namespace xgram
