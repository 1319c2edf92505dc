// A grammar as the Python API sees it: the normalised IR plus its automaton,
// built once on first use (thread-safe) and shared by every matcher.
#ifndef XGRAM_GRAMMAR_HANDLE_H_
#define XGRAM_GRAMMAR_HANDLE_H_

#include <memory>
#include <mutex>
#include <string>

#include "automaton.h"
#include "grammar_ir.h"

namespace xgram {

enum class MatchStatus { kAccepted = 0, kPrefix = 1, kRejected = 2 };

struct MatchResult {
  MatchStatus status;
  // For kRejected, the offset of the first byte that cannot follow; otherwise the
  // input length.
  size_t offset;
};

class GrammarHandle {
 public:
  explicit GrammarHandle(Grammar grammar) : grammar_(std::move(grammar)) {}

  // `normalize`: run all passes; otherwise only the structural simplification,
  // for text printed from an already normalised grammar (keeps its shape).
  static std::shared_ptr<GrammarHandle> FromEBNF(const std::string& text,
                                                 const std::string& root_rule_name,
                                                 bool normalize = true);
  static std::shared_ptr<GrammarHandle> BuiltinJSON();

  const Grammar& grammar() const { return grammar_; }
  std::string ToString() const;
  AutomatonPtr automaton() const;

  // Runs the whole text through a matcher that keeps no rollback history.
  MatchResult Match(const std::string& bytes) const;

 private:
  Grammar grammar_;
  mutable std::once_flag automaton_once_;
  mutable AutomatonPtr automaton_;
};

using GrammarHandlePtr = std::shared_ptr<GrammarHandle>;

// The builtin JSON grammar (ECMA-404) as EBNF text.
const std::string& BuiltinJSONGrammarText();

}  // namespace xgram

#endif  // XGRAM_GRAMMAR_HANDLE_H_
