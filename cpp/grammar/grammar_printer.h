// Grammar IR -> EBNF text. `ParseEBNF(PrintGrammar(g))` is equivalent to `g`:
// the same rules in the same order (root first), the same language.
#ifndef XGRAM_GRAMMAR_PRINTER_H_
#define XGRAM_GRAMMAR_PRINTER_H_

#include <string>

#include "grammar_ir.h"

namespace xgram {

std::string PrintGrammar(const Grammar& grammar);
std::string PrintExpr(const Grammar& grammar, ExprId expr);

}  // namespace xgram

#endif  // XGRAM_GRAMMAR_PRINTER_H_
