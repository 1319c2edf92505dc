// A grammar compiled for one tokenizer: what every GrammarMatcher of that pair
// shares.
//
// It ties three things together:
//   - the grammar's automaton (grammar_handle.h), built once per grammar;
//   - the token-mask cache (token_mask_cache.h), which classifies the
//     vocabulary at each automaton state, lazily on first use or all at once
//     (TokenMaskCache::ComputeAll);
//   - the tokens the grammar names with `Token(id)` (token_marker.h). Such a
//     token is matched by its marker, never by its text, so the matcher needs
//     the sorted list to route it (GrammarMatcher::AcceptToken) and to decide
//     it apart from the mask walk (GrammarMatcher::DecideMarkedTokens).
//
// A CompiledGrammar is immutable except for the cache, which fills itself in a
// thread-safe way; many matchers on many threads may share one.
#ifndef XGRAM_COMPILED_GRAMMAR_H_
#define XGRAM_COMPILED_GRAMMAR_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "automaton.h"
#include "grammar_handle.h"
#include "token_mask_cache.h"
#include "tokenizer_info.h"

namespace xgram {

class CompiledGrammar {
 public:
  // Throws UsageError when the grammar names a token outside the vocabulary.
  CompiledGrammar(GrammarHandlePtr grammar, TokenizerInfoPtr tokenizer);

  const GrammarHandlePtr& grammar() const { return grammar_; }
  const TokenizerInfoPtr& tokenizer() const { return tokenizer_; }
  const AutomatonPtr& automaton() const { return automaton_; }
  TokenMaskCache& cache() const { return *cache_; }

  // An estimate of the bytes this object holds: the automaton's arrays and the
  // mask cache's entries (not the tokenizer, which compiled grammars share).
  size_t MemoryBytes() const;

  // Tokens the grammar names with `Token(id)`, sorted; each is matched by its
  // marker, never as text, by this grammar's matchers.
  const std::vector<int32_t>& marked_tokens() const { return marked_tokens_; }
  bool IsMarked(int32_t id) const {
    return !marked_tokens_.empty() &&
           std::binary_search(marked_tokens_.begin(), marked_tokens_.end(), id);
  }

 private:
  void CollectMarkedTokens();

  GrammarHandlePtr grammar_;
  TokenizerInfoPtr tokenizer_;
  AutomatonPtr automaton_;
  std::unique_ptr<TokenMaskCache> cache_;
  std::vector<int32_t> marked_tokens_;
};

using CompiledGrammarPtr = std::shared_ptr<const CompiledGrammar>;

}  // namespace xgram

#endif  // XGRAM_COMPILED_GRAMMAR_H_
