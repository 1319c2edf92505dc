// A grammar as the Python API sees it: the normalised IR plus its automaton.
//
// FromEBNF parses the text (ebnf_parser.h) and runs the IR passes
// (grammar_passes.h); the automaton (automaton.h) is built on the first call
// to automaton(), once even when several threads ask at the same time, and is
// then shared by every compiled grammar and matcher made from this handle.
// Handles are immutable and passed around as shared pointers.
//
// Matching whole texts lives in whole_text_match.h and the builtin JSON grammar
// in builtin_json_grammar.h, so the grammar object itself knows nothing of the
// runtime matcher.
#ifndef XGRAM_GRAMMAR_HANDLE_H_
#define XGRAM_GRAMMAR_HANDLE_H_

#include <memory>
#include <mutex>
#include <string>

#include "automaton.h"
#include "grammar_ir.h"

namespace xgram {

class GrammarHandle {
 public:
  explicit GrammarHandle(Grammar grammar) : grammar_(std::move(grammar)) {}

  // `normalize`: run all passes; otherwise only the structural simplification,
  // for text printed from an already normalised grammar (keeps its shape).
  static std::shared_ptr<GrammarHandle> FromEBNF(const std::string& text,
                                                 const std::string& root_rule_name,
                                                 bool normalize = true);

  const Grammar& grammar() const { return grammar_; }
  std::string ToString() const;
  // Builds the automaton on first use; throws GrammarError or CompileBudgetError
  // as BuildAutomaton does.
  AutomatonPtr automaton() const;

 private:
  Grammar grammar_;
  mutable std::once_flag automaton_once_;
  mutable AutomatonPtr automaton_;
};

using GrammarHandlePtr = std::shared_ptr<GrammarHandle>;

}  // namespace xgram

#endif  // XGRAM_GRAMMAR_HANDLE_H_
