// GrammarHandle: EBNF -> normalised IR, lazily -> automaton; whole-text matching.
#include "grammar_handle.h"

#include "ebnf_parser.h"
#include "grammar_passes.h"
#include "grammar_printer.h"
#include "pushdown_matcher.h"

namespace xgram {

std::shared_ptr<GrammarHandle> GrammarHandle::FromEBNF(const std::string& text,
                                                       const std::string& root_rule_name,
                                                       bool normalize) {
  Grammar parsed = ParseEBNF(text, root_rule_name);
  return std::make_shared<GrammarHandle>(normalize ? NormalizeGrammar(parsed)
                                                   : SimplifyGrammar(parsed));
}

std::shared_ptr<GrammarHandle> GrammarHandle::BuiltinJSON() {
  static const std::shared_ptr<GrammarHandle> json = FromEBNF(BuiltinJSONGrammarText(), "root");
  return json;
}

std::string GrammarHandle::ToString() const { return PrintGrammar(grammar_); }

AutomatonPtr GrammarHandle::automaton() const {
  std::call_once(automaton_once_,
                 [this] { automaton_ = BuildAutomaton(grammar_, DefaultCompileLimits()); });
  return automaton_;
}

MatchResult GrammarHandle::Match(const std::string& bytes) const {
  PushdownMatcher matcher(automaton(), /*max_rollback_steps=*/0);
  const uint8_t* data = reinterpret_cast<const uint8_t*>(bytes.data());
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (!matcher.AdvanceByte(data[i])) return {MatchStatus::kRejected, i};
  }
  return {matcher.CanEnd() ? MatchStatus::kAccepted : MatchStatus::kPrefix, bytes.size()};
}

const std::string& BuiltinJSONGrammarText() {
  // ECMA-404: any value at the top level, whitespace is [ \t\n\r], strings exclude
  // '"', '\' and U+0000..U+001F, numbers have no leading zeros.
  static const std::string text = R"(root ::= ws value ws
value ::= object | array | string | number | "true" | "false" | "null"
object ::= "{" ws (member ws ("," ws member ws)*)? "}"
member ::= string ws ":" ws value
array ::= "[" ws (value ws ("," ws value ws)*)? "]"
string ::= "\"" char* "\""
char ::= [^"\\\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})
number ::= "-"? ("0" | [1-9] [0-9]*) ("." [0-9]+)? ([eE] [+\-]? [0-9]+)?
ws ::= [ \t\n\r]*
)";
  return text;
}

}  // namespace xgram
