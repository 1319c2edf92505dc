// Regex front-end: ECMA-262 / Python regular expressions -> Grammar IR.
//
// The one regex engine of xgram: Grammar.from_regex, the JSON Schema `pattern`
// keyword and grammars all lower regexes through here, so they share semantics.
// Supported: alternation, groups (capturing, `(?:...)`, named `(?<n>...)` and
// `(?P<n>...)`), quantifiers `* + ? {m} {m,} {m,n}` and their lazy forms (lazy
// and greedy match the same strings), classes with ranges and negation, `.`
// (any character but a line terminator, as in ECMA-262), escapes `\d \w \s \D
// \W \S \n \r \t \f \v \0 \xHH \uHHHH \u{H...}` and escaped punctuation, and
// `^` / `$` anywhere (zero-width: start and end of the text; no multiline flag).
// Lookaround, backreferences, word boundaries and inline flags raise
// GrammarError naming the construct and its column.
#ifndef XGRAM_REGEX_PARSER_H_
#define XGRAM_REGEX_PARSER_H_

#include <string>
#include <vector>

#include "grammar_ir.h"

namespace xgram {

// Adds the regex's expression to `grammar` and returns its id.
ExprId ParseRegexInto(const std::string& pattern, Grammar* grammar);

// Search semantics (ECMA-262 RegExp.test, as JSON Schema's `pattern` uses): the
// expression matches every text that contains a match. '^' / '$' may anchor each
// top-level alternative; unanchored sides are padded with `any_char*`.
ExprId ParseRegexSearchInto(const std::string& pattern, const std::vector<CodepointRange>& any_char,
                            Grammar* grammar);

// Whether a parsed regex matches no string at all (anchors that can never hold,
// as in `a^b`): the parser returns an empty character class then.
bool RegexMatchesNothing(const Grammar& grammar, ExprId expr);

// A grammar whose root rule matches exactly the strings the regex matches in full.
Grammar GrammarFromRegex(const std::string& pattern);

}  // namespace xgram

#endif  // XGRAM_REGEX_PARSER_H_
