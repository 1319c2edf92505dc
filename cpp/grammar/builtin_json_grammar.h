// The builtin JSON grammar: any JSON value as ECMA-404 defines it.
//
// It is written as EBNF text and parsed like any user grammar, so it goes
// through the same passes and automaton builder; the handle is made once per
// process and shared, so every compiled JSON grammar reuses its automaton.
#ifndef XGRAM_BUILTIN_JSON_GRAMMAR_H_
#define XGRAM_BUILTIN_JSON_GRAMMAR_H_

#include <string>

#include "grammar_handle.h"

namespace xgram {

// The builtin JSON grammar as EBNF text (root rule `root`).
const std::string& BuiltinJSONGrammarText();

// The grammar of BuiltinJSONGrammarText, parsed and normalised on first use.
GrammarHandlePtr BuiltinJSONGrammar();

}  // namespace xgram

#endif  // XGRAM_BUILTIN_JSON_GRAMMAR_H_
