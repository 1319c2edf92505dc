"""Fuzz target: ``Grammar.from_ebnf`` on grammar text, then string and token matching.

Input layout: the first byte picks the mode, the rest is read by it.

* mode 0: the rest is grammar text (UTF-8, invalid bytes replaced), mutated by
  libFuzzer from the seed grammars; parse errors are clean rejections.
* modes 1-2: the rest drives :class:`text_generators.EbnfGenerator`, which writes
  a well-formed grammar (recursion, repetition bounds, ``-`` difference,
  lookahead) plus probe strings; those grammars are also compiled with the small
  tokenizer and walked token by token.

Clean rejections: ``GrammarError`` (bad text) and ``CompileBudgetError`` (over the
fuzzing budgets). Anything else, a failed property (see :mod:`grammar_checks`),
a sanitizer report, a crash or a hang is a finding.

Run with ``fuzz/run.sh fuzz_ebnf SECONDS``.
"""

from __future__ import annotations

import re
import sys

import atheris
from fuzz_support import instrumented_imports

with instrumented_imports():
    from fuzz_support import OutcomeFeedback, guarded, run, small_tokenizer
    from grammar_checks import check_matcher_walk, check_string_matching
    from text_generators import EbnfGenerator, split_mode

    import xgram

CLEAN = (xgram.GrammarError, xgram.CompileBudgetError)
# A backslash before a non-ASCII character: the parser's "unknown escape" message
# holds only the character's first byte, so it fails to decode (a known finding).
KNOWN_NON_ASCII_ESCAPE = re.compile(r"\\[^\x00-\x7f]")
FIXED_PROBES = ["", "a", "ab", "1", "{}", '"', "\n", "é", "aaaaaaaa"]
FEEDBACK = OutcomeFeedback()
COMPILER = xgram.GrammarCompiler(small_tokenizer(), max_threads=1, cache_enabled=False)


def literals_of(text: str) -> list[str]:
    """The contents of the double-quoted literals of a grammar text, as probe strings."""
    return [m.replace('\\"', '"') for m in re.findall(r'"((?:[^"\\\n]|\\.){0,12})"', text)][:6]


def test_one_input(data: bytes) -> None:
    """Parse one grammar and check its matching properties."""
    mode, rest = split_mode(data, 3)
    if mode == 0:
        text = rest.decode("utf-8", "replace")
        probes = FIXED_PROBES + literals_of(text)
        generator = None
    else:
        generator = EbnfGenerator(atheris.FuzzedDataProvider(rest))
        text = generator.grammar()
        probes = generator.probes(6)
    try:
        grammar = xgram.Grammar.from_ebnf(text)
    except CLEAN as exc:
        FEEDBACK.observe_error("parse", exc)
        return
    except UnicodeDecodeError:
        if KNOWN_NON_ASCII_ESCAPE.search(text):
            return  # known: tests/test_fuzz_regressions.py, the escape message splits UTF-8
        raise
    if check_string_matching(grammar, probes, FEEDBACK) is None or generator is None:
        return
    compiled, result = guarded(CLEAN, lambda: COMPILER.compile_grammar(grammar))
    if compiled:
        check_matcher_walk(result, grammar, probes, generator.pick, steps=8)


if __name__ == "__main__":
    run(test_one_input, argv=sys.argv)
