// EBNF front-end: grammar text -> Grammar IR.
//
// The dialect is XGrammar's, a superset of llama.cpp's GBNF:
//   name ::= expr              a rule; names use letters, digits, '_' and '-'
//   a b                        sequence        a | b | (empty)   alternatives
//   ( ... )                    grouping        "lit"             string literal
//   [a-z\n] [^"\\] [^]         character class (code points, UTF-8 aware)
//   .                          any code point
//   x* x+ x? x{m} x{m,} x{m,n} repetition
//   a - b                      difference: what `a` matches and `b` does not
//                              (W3C EBNF; both regular; binds tighter than a
//                              sequence, looser than a quantifier; the '-' needs
//                              whitespace after it, as names may contain '-')
//   a & b                      intersection: what both match (both regular;
//                              the same level as '-', left-associative)
//   # ...                      comment to the end of the line
//   name ::= body (= expr)     positive lookahead after the body
// Rules may span lines; a rule ends where the next `name ::=` begins. The parser
// is a recursive descent over the raw text with one token of lookahead; every
// error carries the byte offset where it was detected and is reported with line,
// column and a caret (errors.h).
#ifndef XGRAM_EBNF_PARSER_H_
#define XGRAM_EBNF_PARSER_H_

#include <string>

#include "grammar_ir.h"

namespace xgram {

// Parses `text` into IR. Throws GrammarError on syntax errors, undefined or
// duplicate rules, a missing root rule and an empty grammar.
Grammar ParseEBNF(const std::string& text, const std::string& root_rule_name = "root");

}  // namespace xgram

#endif  // XGRAM_EBNF_PARSER_H_
