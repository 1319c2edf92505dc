// What the mask walk knows about a vocabulary before it sees any grammar.
//
// The walk (trie_walk.h) classifies a vocabulary from one automaton state by
// descending the tokenizer's trie (tokenizer_info.h). Most states it meets are
// free text: inside a JSON string, a name, a pattern class. There almost every
// token is accepted for the same reason, and visiting each trie node would cost
// the whole vocabulary per state. These indexes, computed once per tokenizer
// from its trie alone, let the walk skip what a state accepts wholesale:
//   - which nodes spell plain JSON string content, and where a walk inside a
//     plain-text region must stop next (the nodes that are not plain);
//   - the bytes below each node (ASCII as a bitset, UTF-8 lead bytes, whether
//     the rest is well-formed UTF-8), for subtrees a DFA state's self-loops cover;
//   - plain tokens grouped by first byte (bitsets and lists), to OR in whole
//     first-byte subtrees after a walk;
//   - the quote-suffix trie: the distinct strings that follow a closing quote
//     after plain text, walked once per state instead of once per quote node.
// Each is an array indexed by trie node (or by trie_token_ids() position).
#ifndef XGRAM_MASK_WALK_INDEX_H_
#define XGRAM_MASK_WALK_INDEX_H_

#include <cstdint>
#include <vector>

#include "tokenizer_info.h"

namespace xgram {

class MaskWalkIndex {
 public:
  explicit MaskWalkIndex(const TokenizerInfo& tok);

  // JSON string content ("plain" text): the trie node's bytes hold no '"', '\\' or
  // control byte and are valid UTF-8 (the last character may be incomplete).
  // A state that loops on every such character accepts these tokens wholesale,
  // so the mask walk skips subtrees without a non-plain token.
  const std::vector<uint8_t>& plain_node() const { return plain_node_; }
  // The first node at or after i, in trie order, that a walk inside a plain-text
  // region must visit (i itself unless it is skipped): plain nodes without a
  // non-plain token below are skipped whole, so a region costs the non-plain
  // nodes it holds, not its siblings.
  const std::vector<int32_t>& region_next() const { return region_next_; }
  // The same for regions whose loop state has no edge for control bytes: a
  // control byte right after plain text (where the parse is back at the loop
  // state or inside a character) kills the token, so those subtrees are skipped
  // too and only the other non-plain nodes ('"', '\\', broken UTF-8) are visited.
  const std::vector<int32_t>& region_next_live() const { return region_next_live_; }
  // The ASCII bytes below each trie node (two words per node: bytes 0-63 and
  // 64-127) and whether a non-ASCII byte is below it: a subtree whose bytes all
  // loop on the walk's DFA state is accepted without visiting it.
  const std::vector<uint64_t>& below_ascii() const { return below_ascii_; }
  const std::vector<uint8_t>& below_non_ascii() const { return below_non_ascii_; }
  // Whether every token below node i continues it with well-formed UTF-8 read
  // from a character boundary (the last character may be cut): a DFA state that
  // loops on every character of the lead bytes below (trie_below_leads) accepts
  // such a subtree unvisited.
  const std::vector<uint8_t>& utf8_clean_below() const { return utf8_clean_below_; }
  // The UTF-8 lead bytes (C2-F4, bit b - 0xC0) below each node.
  const std::vector<uint64_t>& below_leads() const { return below_leads_; }
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
  // a plain prefix, and what follows (`",`) decides it. Many quote nodes share
  // the same few hundred suffixes, so they are stored once: the suffix trie holds every
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
  size_t MemoryBytes() const;

 private:
  void ClassifyPlainNodes(const TokenizerInfo& tok);
  void MarkPlainNodes(const std::vector<TrieNode>& trie, const std::vector<int32_t>& parent_of);
  void BuildRegionSkips(const std::vector<TrieNode>& trie, const std::vector<int32_t>& parent_of);
  void BuildBytesBelow(const std::vector<TrieNode>& trie, const std::vector<int32_t>& parent_of);
  void GroupPlainTokensByFirstByte(const TokenizerInfo& tok);
  void BuildQuoteSuffixes(const TokenizerInfo& tok);

  std::vector<uint8_t> plain_node_;
  std::vector<int32_t> region_next_;
  std::vector<int32_t> region_next_live_;
  std::vector<uint64_t> below_ascii_;
  std::vector<uint8_t> below_non_ascii_;
  std::vector<std::vector<uint32_t>> plain_by_first_byte_;
  std::vector<uint32_t> plain_all_;
  std::vector<std::vector<int32_t>> plain_list_by_first_byte_;
  std::vector<uint8_t> utf8_clean_below_;
  std::vector<uint64_t> below_leads_;
  std::vector<uint8_t> plain_at_position_;
  std::vector<uint8_t> first_bytes_;
  std::vector<SuffixNode> quote_suffix_trie_;
  std::vector<int32_t> quote_suffix_node_;
};

}  // namespace xgram

#endif  // XGRAM_MASK_WALK_INDEX_H_
