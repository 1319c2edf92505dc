// JSON string encoding: from constraints on a decoded string to the JSON text
// that spells it.
//
// JSON Schema constrains the *decoded* value of a string (`pattern`, `format`,
// `minLength`, `enum`...), but the model writes the JSON *text*, in which one
// character has several spellings: raw UTF-8, a short escape (\" \\ \/ \b \f \n
// \r \t) or \uXXXX with hex digits in either case, characters above U+FFFF as a
// \uD8xx\uDCxx surrogate pair. This pass rewrites an IR expression over decoded
// characters into one over JSON string-content bytes, so that the encoded
// language is exactly { spellings of s : s in the decoded language }.
//
// Which spellings are offered: characters JSON requires to be escaped ('"', '\',
// U+0000..U+001F) and '/' get every escape form; other characters are raw, plus
// every \u form when `general_escapes` is set. (Free text is encoded with it set;
// excluding a few characters from a class makes its \u forms a large hex-range
// automaton, so constrained strings default to raw spellings.) A subset of
// spellings is never looser than the schema; it only narrows how a value is written.
#ifndef XGRAM_JSON_STRING_ENCODING_H_
#define XGRAM_JSON_STRING_ENCODING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "grammar_ir.h"

namespace xgram {

// Rewrites `decoded` (built in `grammar`) into the expression over JSON string
// content (without the surrounding quotes) that spells the same strings.
ExprId JsonEncodeExpr(Grammar* grammar, ExprId decoded, bool general_escapes);

// One character from `ranges`, as JSON string content.
ExprId JsonEncodeClass(Grammar* grammar, const std::vector<CodepointRange>& ranges,
                       bool general_escapes);

struct JsonStringPattern {
  std::string ebnf;          // an EBNF expression for the string content
  int64_t min_length = 0;    // code points the decoded strings have at least...
  int64_t max_length = -1;   // ...and at most (-1: unbounded)
  bool length_applied = true;  // the requested length bounds are part of `ebnf`
};

// A regex as JSON string content. `search`: JSON Schema `pattern` semantics (a
// match anywhere unless anchored); otherwise the regex matches the whole value.
// `min_length`/`max_length` (code points, -1 = none) are folded into the
// repeated class when the pattern has a fixed-length frame around one; otherwise
// the pattern is intersected with `any{min,max}` (`&`, a DFA product).
JsonStringPattern RegexToJsonString(const std::string& pattern, bool search, bool general_escapes,
                                    int64_t min_length, int64_t max_length);

}  // namespace xgram

#endif  // XGRAM_JSON_STRING_ENCODING_H_
