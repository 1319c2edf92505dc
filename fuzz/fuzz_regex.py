"""Fuzz target: ``Grammar.from_regex`` on pattern text, with ``re.fullmatch`` as an oracle.

Input layout: the first byte picks the mode, the rest is read by it.

* mode 0: the rest is a pattern (UTF-8, invalid bytes replaced), mutated by
  libFuzzer from the seed patterns (JSON Schema ``pattern`` values, hand-written
  regexes); parse errors and unsupported constructs are clean rejections.
* modes 1-2: the rest drives :class:`text_generators.RegexGenerator`, which
  writes a pattern in the subset where Python's ``re`` and ECMA-262 agree on
  ASCII text; ``Grammar.accepts`` must then equal ``re.fullmatch`` on the probe
  strings, and the pattern is compiled and walked token by token.

Clean rejections: ``GrammarError`` and ``CompileBudgetError``. Anything else, a
disagreement with ``re``, a failed property (see :mod:`grammar_checks`), a
sanitizer report, a crash or a hang is a finding.

Run with ``fuzz/run.sh fuzz_regex SECONDS``.
"""

from __future__ import annotations

import re
import sys

import atheris
from fuzz_support import instrumented_imports

with instrumented_imports():
    from fuzz_support import OutcomeFeedback, guarded, run, small_tokenizer
    from grammar_checks import check_matcher_walk, check_string_matching, expect
    from text_generators import RegexGenerator, split_mode

    import xgram

CLEAN = (xgram.GrammarError, xgram.CompileBudgetError)
FIXED_PROBES = ["", "a", "ab", "1", "a1", " ", "-", "\n", "é", "2024-01-01", "aaaaaaaa"]
FEEDBACK = OutcomeFeedback()
COMPILER = xgram.GrammarCompiler(small_tokenizer(), max_threads=1, cache_enabled=False)


def test_one_input(data: bytes) -> None:
    """Parse one pattern and check its matching properties (and ``re`` agreement)."""
    mode, rest = split_mode(data, 3)
    generator = None
    if mode == 0:
        pattern = rest.decode("utf-8", "replace")
        probes = FIXED_PROBES
    else:
        generator = RegexGenerator(atheris.FuzzedDataProvider(rest))
        pattern = generator.pattern()
        probes = generator.probes(6)
    try:
        grammar = xgram.Grammar.from_regex(pattern)
    except xgram.CompileBudgetError:
        return
    except xgram.GrammarError as exc:
        FEEDBACK.observe_error("parse", exc)
        # The generator writes only supported syntax: rejecting it is a finding.
        expect(generator is None, f"the generated pattern {pattern!r} was rejected: {exc}")
        return
    verdicts = check_string_matching(grammar, probes, FEEDBACK)
    if verdicts is None or generator is None:
        return
    oracle = re.compile(pattern)
    for probe, verdict in zip(probes, verdicts):
        expected = oracle.fullmatch(probe) is not None
        expect(verdict == expected, f"{pattern!r} on {probe!r}: xgram {verdict}, re {expected}")
    compiled, result = guarded(CLEAN, lambda: COMPILER.compile_grammar(grammar))
    if compiled:
        check_matcher_walk(result, grammar, probes, generator.pick, steps=8)


if __name__ == "__main__":
    run(test_one_input, argv=sys.argv)
