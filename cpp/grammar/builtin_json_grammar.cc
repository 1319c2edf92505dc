// BuiltinJSONGrammarText and BuiltinJSONGrammar (see builtin_json_grammar.h).
#include "builtin_json_grammar.h"

namespace xgram {

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

GrammarHandlePtr BuiltinJSONGrammar() {
  static const GrammarHandlePtr json = GrammarHandle::FromEBNF(BuiltinJSONGrammarText(), "root");
  return json;
}

}  // namespace xgram
