// MatchWholeText (see whole_text_match.h).
#include "whole_text_match.h"

#include <cstdint>

#include "pushdown_matcher.h"

namespace xgram {

MatchResult MatchWholeText(const GrammarHandle& grammar, const std::string& bytes) {
  PushdownMatcher matcher(grammar.automaton(), /*max_rollback_steps=*/0);
  const uint8_t* data = reinterpret_cast<const uint8_t*>(bytes.data());
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (!matcher.AdvanceByte(data[i])) return {MatchStatus::kRejected, i};
  }
  return {matcher.CanEnd() ? MatchStatus::kAccepted : MatchStatus::kPrefix, bytes.size()};
}

}  // namespace xgram
