// CompiledGrammar (see compiled_grammar.h): builds the grammar's automaton and
// mask cache for a tokenizer, lists the tokens named by markers, and estimates
// the memory it holds.
#include "compiled_grammar.h"

#include <string>

#include "errors.h"
#include "token_marker.h"

namespace xgram {
namespace {

// The automaton's arrays indexed by state, in bytes per state: its is_final
// flag, its rule (state_rule), and the offsets of its byte and call edge lists
// (byte_edge_begin, call_edge_begin). The estimate leaves out the smaller
// per-rule and lookahead arrays and the state hashes.
constexpr size_t kBytesPerState = sizeof(uint8_t) + sizeof(RuleId) + 2 * sizeof(int32_t);

}  // namespace

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

size_t CompiledGrammar::MemoryBytes() const {
  const Automaton& a = *automaton_;
  size_t edge_bytes = a.byte_edges.size() * sizeof(ByteEdge) + a.call_edges.size() * sizeof(CallEdge) +
                      a.lookahead_edges.size() * sizeof(ByteEdge);
  size_t state_bytes = a.is_final.size() * kBytesPerState;
  return sizeof(*this) + edge_bytes + state_bytes + cache_->MemoryBytes();
}

}  // namespace xgram
