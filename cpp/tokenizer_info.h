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
#ifndef XGRAM_TOKENIZER_INFO_H_
#define XGRAM_TOKENIZER_INFO_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace xgram {

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
  // JSON string content ("plain" text): the trie node's bytes hold no '"', '\\' or
  // control byte and are valid UTF-8 (the last character may be incomplete).
  // A state that loops on every such character accepts these tokens wholesale,
  // so the mask walk skips subtrees without a non-plain token.
  const std::vector<uint8_t>& trie_plain() const { return trie_plain_; }
  // The first node at or after i, in trie order, that a walk inside a plain-text
  // region must visit (i itself unless it is skipped): plain nodes without a
  // non-plain token below are skipped whole, so a region costs the non-plain
  // nodes it holds, not its siblings.
  const std::vector<int32_t>& trie_region_next() const { return trie_region_next_; }
  // The same for regions whose loop state has no edge for control bytes: a
  // control byte right after plain text (where the parse is back at the loop
  // state or inside a character) kills the token, so those subtrees are skipped
  // too and only the other non-plain nodes ('"', '\\', broken UTF-8) are visited.
  const std::vector<int32_t>& trie_region_next_live() const { return trie_region_next_live_; }
  // The ASCII bytes below each trie node (two words per node: bytes 0-63 and
  // 64-127) and whether a non-ASCII byte is below it: a subtree whose bytes all
  // loop on the walk's DFA state is accepted without visiting it.
  const std::vector<uint64_t>& trie_below_ascii() const { return trie_below_ascii_; }
  const std::vector<uint8_t>& trie_below_non_ascii() const { return trie_below_non_ascii_; }
  // Whether every token below node i continues it with well-formed UTF-8 read
  // from a character boundary (the last character may be cut): a DFA state that
  // loops on every character of the lead bytes below (trie_below_leads) accepts
  // such a subtree unvisited.
  const std::vector<uint8_t>& trie_utf8_clean_below() const { return trie_utf8_clean_below_; }
  // The UTF-8 lead bytes (C2-F4, bit b - 0xC0) below each node.
  const std::vector<uint64_t>& trie_below_leads() const { return trie_below_leads_; }
  // Plain tokens starting with byte b (bitset by id), for the root's children.
  const std::vector<uint32_t>& plain_tokens_by_first_byte(uint8_t b) const {
    return plain_by_first_byte_[b];
  }
  // Plain tokens starting with byte b as a sorted id list (cheaper than the bitset
  // for bytes that start few tokens).
  const std::vector<int32_t>& plain_token_list_by_first_byte(uint8_t b) const {
    return plain_list_by_first_byte_[b];
  }
  // Per position of trie_token_ids(): whether that token is plain.
  const std::vector<uint8_t>& plain_at_position() const { return plain_at_position_; }
  // Every plain token (bitset by id), and the first bytes the trie has.
  const std::vector<uint32_t>& plain_tokens() const { return plain_all_; }
  const std::vector<uint8_t>& first_bytes() const { return first_bytes_; }
  // Suffixes after a closing quote. A token like `abc",` reaches its quote from
  // a plain prefix, and what follows (`",`) decides it; Llama-3 has 1,301 such
  // tokens under 184 quote nodes (1,832 trie nodes at or below them), but only
  // 576 distinct suffixes (914 suffix-trie nodes). The suffix trie holds every
  // string from such a quote (the first byte of its path that is not plain,
  // read after plain text) to a node below it, in the trie's depth-first
  // layout, the quote itself at node 1; quote_suffix_node() maps each
  // main-trie node at or below such a quote to its suffix-trie node (-1
  // elsewhere).
  struct SuffixNode {
    uint8_t byte;
    uint16_t depth;
    int32_t subtree_end;
  };
  const std::vector<SuffixNode>& quote_suffix_trie() const { return quote_suffix_trie_; }
  const std::vector<int32_t>& quote_suffix_node() const { return quote_suffix_node_; }
  // Trie node of each token id, or -1 for special and padding ids.
  const std::vector<int32_t>& token_node() const { return token_node_; }
  // A fingerprint of everything masks depend on (for cache keys and serialisation).
  uint64_t Fingerprint() const { return fingerprint_; }
  size_t MemoryBytes() const;

  static std::string DecodeToken(const std::string& encoded, VocabType type);

 private:
  void BuildTrie();
  void ClassifyPlainNodes();
  void BuildQuoteSuffixes();

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
  std::vector<uint8_t> trie_plain_;
  std::vector<int32_t> trie_region_next_;
  std::vector<int32_t> trie_region_next_live_;
  std::vector<uint64_t> trie_below_ascii_;
  std::vector<uint8_t> trie_below_non_ascii_;
  std::vector<std::vector<uint32_t>> plain_by_first_byte_;
  std::vector<uint32_t> plain_all_;
  std::vector<std::vector<int32_t>> plain_list_by_first_byte_;
  std::vector<uint8_t> trie_utf8_clean_below_;
  std::vector<uint64_t> trie_below_leads_;
  std::vector<uint8_t> plain_at_position_;
  std::vector<uint8_t> first_bytes_;
  std::vector<SuffixNode> quote_suffix_trie_;
  std::vector<int32_t> quote_suffix_node_;
  uint64_t fingerprint_ = 0;
  int32_t max_token_bytes_ = 0;
};

using TokenizerInfoPtr = std::shared_ptr<const TokenizerInfo>;

}  // namespace xgram

#endif  // XGRAM_TOKENIZER_INFO_H_
