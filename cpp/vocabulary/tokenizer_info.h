// Tokenizer vocabulary as bytes, plus a true prefix trie over it.
//
// Tokenizers store tokens in three encodings, and each is decoded to the bytes
// the token adds to the text:
//   RAW            the token text is its bytes (tiktoken-style vocabularies);
//   BYTE_FALLBACK  SentencePiece: U+2581 '▁' stands for a space and `<0xNN>`
//                  pieces are single raw bytes (Llama-2, Mistral);
//   BYTE_LEVEL     GPT-2 byte-level BPE: every byte is mapped to a printable
//                  code point (Llama-3, Qwen, DeepSeek), mapped back here.
// Special tokens (control tokens, added tokens, tokens that decode to nothing)
// are never produced by text: they are kept out of the trie and only appear in a
// mask as stop tokens. Ids in [vocab entries, vocab_size) are model-head padding
// and are always masked.
//
// The trie is laid out in depth-first pre-order over the sorted byte strings:
// node i's subtree is [i, subtree_end[i]), so a walk that finds a prefix invalid
// skips all tokens extending it in O(1). Unlike a "pseudo-trie" built with
// substring search, a token is a child only of its true prefixes.
//
// This is the vocabulary and its trie. What the mask walk precomputes over the
// trie to skip most of it (plain-text regions, bytes below each node, the
// quote-suffix trie) is a MaskWalkIndex (mask_walk_index.h), built here once
// per tokenizer and shared by every grammar compiled for it.
#ifndef XGRAM_TOKENIZER_INFO_H_
#define XGRAM_TOKENIZER_INFO_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace xgram {

class MaskWalkIndex;

enum class VocabType : int { kRaw = 0, kByteFallback = 1, kByteLevel = 2 };

struct TrieNode {
  uint8_t byte;         // the byte on the edge from the parent (unused for the root)
  uint16_t depth;       // number of bytes from the root
  int32_t subtree_end;  // one past the last node of this subtree
  int32_t token_begin;  // tokens ending here: token_ids[token_begin, token_end)
  int32_t token_end;
};

class TokenizerInfo {
 public:
  TokenizerInfo(const std::vector<std::string>& encoded_vocab, VocabType vocab_type,
                int32_t vocab_size, std::vector<int32_t> stop_token_ids,
                std::vector<int32_t> special_token_ids, bool add_prefix_space);

  VocabType vocab_type() const { return vocab_type_; }
  int32_t vocab_size() const { return vocab_size_; }
  bool add_prefix_space() const { return add_prefix_space_; }
  const std::vector<std::string>& decoded_vocab() const { return decoded_vocab_; }
  const std::vector<int32_t>& stop_token_ids() const { return stop_token_ids_; }
  const std::vector<int32_t>& special_token_ids() const { return special_token_ids_; }
  bool IsSpecial(int32_t id) const { return is_special_[id]; }

  const std::vector<TrieNode>& trie() const { return trie_; }
  // One past the trie_token_ids() position of the last token below `node`.
  int32_t SubtreeTokenEnd(int32_t node) const {
    int32_t end = trie_[node].subtree_end;
    return end < static_cast<int32_t>(trie_.size()) ? trie_[end].token_begin
                                                    : static_cast<int32_t>(trie_token_ids_.size());
  }
  // Bytes in the longest token.
  int32_t max_token_bytes() const { return max_token_bytes_; }
  const std::vector<int32_t>& trie_token_ids() const { return trie_token_ids_; }
  // Bit i of word i/32 set for every token that text can produce (not special).
  const std::vector<uint32_t>& text_token_bits() const { return text_token_bits_; }
  // Trie node of each token id, or -1 for special and padding ids.
  const std::vector<int32_t>& token_node() const { return token_node_; }
  // A fingerprint of everything masks depend on (for cache keys and serialisation).
  uint64_t Fingerprint() const { return fingerprint_; }
  // The mask walk's indexes over the trie (mask_walk_index.h), built with it.
  const MaskWalkIndex& walk_index() const { return *walk_index_; }
  size_t MemoryBytes() const;

  static std::string DecodeToken(const std::string& encoded, VocabType type);

 private:
  void BuildTrie();

  VocabType vocab_type_;
  int32_t vocab_size_;
  bool add_prefix_space_;
  std::vector<std::string> decoded_vocab_;  // size vocab_size; padding ids are ""
  std::vector<int32_t> stop_token_ids_;
  std::vector<int32_t> special_token_ids_;
  std::vector<uint8_t> is_special_;
  std::vector<TrieNode> trie_;
  std::vector<int32_t> trie_token_ids_;
  std::vector<int32_t> token_node_;
  std::vector<uint32_t> text_token_bits_;
  uint64_t fingerprint_ = 0;
  int32_t max_token_bytes_ = 0;
  std::shared_ptr<const MaskWalkIndex> walk_index_;
};

using TokenizerInfoPtr = std::shared_ptr<const TokenizerInfo>;

}  // namespace xgram

#endif  // XGRAM_TOKENIZER_INFO_H_
