// Whole-text matching: does a grammar accept a text, a prefix of one, or neither?
//
// This is the byte-level question behind `Grammar.accepts` and
// `Grammar.accepts_prefix`; no tokenizer is involved. The text is fed byte by
// byte to a PushdownMatcher (pushdown_matcher.h) that keeps no rollback
// history, so memory stays bounded by the live threads however long the text.
// The first byte no thread can read rejects the text at that offset; after
// the last byte, the text is accepted if the root rule can end there and is a
// prefix of some accepted text otherwise.
#ifndef XGRAM_WHOLE_TEXT_MATCH_H_
#define XGRAM_WHOLE_TEXT_MATCH_H_

#include <cstddef>
#include <string>

#include "grammar_handle.h"

namespace xgram {

enum class MatchStatus { kAccepted = 0, kPrefix = 1, kRejected = 2 };

struct MatchResult {
  MatchStatus status;
  // For kRejected, the offset of the first byte that cannot follow; otherwise the
  // input length.
  size_t offset;
};

// Runs the whole of `bytes` through the grammar's automaton (building it on
// first use).
MatchResult MatchWholeText(const GrammarHandle& grammar, const std::string& bytes);

}  // namespace xgram

#endif  // XGRAM_WHOLE_TEXT_MATCH_H_
