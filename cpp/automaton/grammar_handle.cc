// GrammarHandle (see grammar_handle.h): EBNF -> normalised IR, lazily -> automaton.
#include "grammar_handle.h"

#include "ebnf_parser.h"
#include "grammar_passes.h"
#include "grammar_printer.h"

namespace xgram {

std::shared_ptr<GrammarHandle> GrammarHandle::FromEBNF(const std::string& text,
                                                       const std::string& root_rule_name,
                                                       bool normalize) {
  Grammar parsed = ParseEBNF(text, root_rule_name);
  return std::make_shared<GrammarHandle>(normalize ? NormalizeGrammar(parsed)
                                                   : SimplifyGrammar(parsed));
}

std::string GrammarHandle::ToString() const { return PrintGrammar(grammar_); }

AutomatonPtr GrammarHandle::automaton() const {
  std::call_once(automaton_once_,
                 [this] { automaton_ = BuildAutomaton(grammar_, DefaultCompileLimits()); });
  return automaton_;
}

}  // namespace xgram
