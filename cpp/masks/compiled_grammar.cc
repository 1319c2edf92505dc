// CompiledGrammar (see compiled_grammar.h): builds the grammar's automaton and
// mask cache for a tokenizer, lists the tokens named by markers, and estimates
// the memory it holds (the automaton, the marked tokens, the mask cache with
// every entry computed so far; the tokenizer and the grammar IR are shared, so
// not counted).
#include "compiled_grammar.h"

#include <string>

#include "errors.h"
#include "token_marker.h"

namespace xgram {
CompiledGrammar::CompiledGrammar(GrammarHandlePtr grammar, TokenizerInfoPtr tokenizer)
    : grammar_(std::move(grammar)),
      tokenizer_(std::move(tokenizer)),
      automaton_(grammar_->automaton()),
      cache_(std::make_unique<TokenMaskCache>(automaton_, tokenizer_)) {
  CollectMarkedTokens();
}

// Markers live in the grammar's literals, so scanning every literal for the
// marker's lead byte finds each named token.
void CompiledGrammar::CollectMarkedTokens() {
  const char lead = static_cast<char>(kTokenMarkerLead);
  for (const Expr& e : grammar_->grammar().exprs) {
    if (e.kind != ExprKind::kBytes) continue;
    for (size_t pos = e.bytes.find(lead); pos != std::string::npos; pos = e.bytes.find(lead, pos + 1)) {
      int32_t id = ReadTokenMarker(e.bytes, pos);
      if (id < 0) continue;
      if (id >= tokenizer_->vocab_size()) {
        throw UsageError("Token(" + std::to_string(id) + ") is out of range for a vocabulary of " +
                         std::to_string(tokenizer_->vocab_size()) + " tokens");
      }
      marked_tokens_.push_back(id);
    }
  }
  std::sort(marked_tokens_.begin(), marked_tokens_.end());
  marked_tokens_.erase(std::unique(marked_tokens_.begin(), marked_tokens_.end()), marked_tokens_.end());
}

// The grammar's IR is counted too: it is shared with the Grammar object it came
// from, but a compiler's cache keeps it alive for as long as the entry.
size_t CompiledGrammar::MemoryBytes() const {
  return sizeof(*this) + grammar_->grammar().MemoryBytes() + automaton_->MemoryBytes() +
         marked_tokens_.capacity() * sizeof(int32_t) + cache_->MemoryBytes();
}

}  // namespace xgram
