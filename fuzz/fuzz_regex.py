r"""Fuzz target: ``Grammar.from_regex`` on pattern text, with ``re.fullmatch`` as an oracle.

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

The oracle is ``re``'s syntax run by the ``regex`` module (its default version
follows ``re``) with a time limit: ``re`` itself backtracks catastrophically on
generated patterns such as ``((((?:[^\s])*?)+)+)+`` against ``"aaaaa\n\n"`` (over
90 s in the ASan campaign, where xgram answered at once), which made libFuzzer
report a hang in the oracle. A probe the oracle cannot decide in time is skipped.

Run with ``fuzz/run.sh fuzz_regex SECONDS``.
"""

from __future__ import annotations

import re
import sys
from typing import Optional

try:
    import regex
except ImportError:  # the test extra brings it; without it, plain re (may hang)
    regex = None

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


ORACLE_SECONDS = 2.0


def oracle_fullmatch(pattern: str, probe: str) -> Optional[bool]:
    """Whether ``probe`` fully matches ``pattern`` (``re`` semantics); None past the time limit."""
    if regex is None:
        return re.fullmatch(pattern, probe) is not None
    try:
        return regex.fullmatch(pattern, probe, timeout=ORACLE_SECONDS) is not None
    except TimeoutError:
        return None


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
    for probe, verdict in zip(probes, verdicts):
        expected = oracle_fullmatch(pattern, probe)
        if expected is None:
            FEEDBACK.observe("oracle", "timeout")
            continue
        expect(verdict == expected, f"{pattern!r} on {probe!r}: xgram {verdict}, re {expected}")
    compiled, result = guarded(CLEAN, lambda: COMPILER.compile_grammar(grammar))
    if compiled:
        check_matcher_walk(result, grammar, probes, generator.pick, steps=8)


if __name__ == "__main__":
    run(test_one_input, argv=sys.argv)
