// Grammar IR -> smaller equivalent Grammar IR, and grammar combinators.
//
// Passes (NormalizeGrammar runs them in this order):
//   1. Simplify: flatten nested sequences and choices, drop empty sequence
//      elements, fuse adjacent literals, unwrap one-element groups, turn
//      single-code-point classes into literals, fold trivial repetitions.
//   2. Inline: replace references to small or once-used non-recursive rules
//      (without lookahead) by their bodies, so the automaton builder sees larger
//      regular pieces and the matcher makes fewer calls.
//   3. Drop unreachable rules and compact the expression arena. After inlining
//      this is a plain copy: the arena is already simplified (NormalizeGrammar
//      checks the one case where simplifying again would change it).
// Each pass builds a fresh arena, so shared sub-expressions never alias edits.
#ifndef XGRAM_GRAMMAR_PASSES_H_
#define XGRAM_GRAMMAR_PASSES_H_

#include <vector>

#include "grammar_ir.h"

namespace xgram {

Grammar SimplifyGrammar(const Grammar& grammar);
Grammar InlineRules(const Grammar& grammar);
Grammar RemoveUnreachableRules(const Grammar& grammar);
Grammar NormalizeGrammar(const Grammar& grammar);

// A grammar whose root accepts any one of `grammars` / all of them in order.
Grammar UnionGrammars(const std::vector<const Grammar*>& grammars);
Grammar ConcatGrammars(const std::vector<const Grammar*>& grammars);

}  // namespace xgram

#endif  // XGRAM_GRAMMAR_PASSES_H_
