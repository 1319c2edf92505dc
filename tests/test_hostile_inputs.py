"""Hostile grammars and regexes: a clear exception or a working grammar, never a crash or hang."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xgram

ACCEPTABLE = (xgram.GrammarError, xgram.CompileBudgetError)


@pytest.fixture
def tight_budget():
    # Fuzzed grammars can need exponentially many DFA states; a small budget
    # turns those into a quick CompileBudgetError instead of a slow build.
    saved = xgram.get_compile_limits()
    xgram.set_compile_limits(max_states=20_000, max_seconds=2.0)
    yield
    xgram.set_compile_limits(max_states=saved[0], max_seconds=saved[1])


def test_deeply_nested_groups_are_refused() -> None:
    with pytest.raises(xgram.GrammarError, match="nested too deeply"):
        xgram.Grammar.from_ebnf("root ::= " + "(" * 100_000 + '"a"' + ")" * 100_000)
    with pytest.raises(xgram.GrammarError, match="nested too deeply"):
        xgram.Grammar.from_regex("(" * 100_000 + "a" + ")" * 100_000)
    with pytest.raises(xgram.GrammarError, match="stacked quantifiers"):
        xgram.Grammar.from_ebnf('root ::= "a"' + "?" * 10_000)
    # Nesting within the limit works.
    assert xgram.Grammar.from_ebnf("root ::= " + "(" * 400 + '"a"' + ")" * 400).accepts("a")


def test_long_rule_chains_compile() -> None:
    rules = "\n".join(f"r{i} ::= (r{i + 1})*" for i in range(3000))
    g = xgram.Grammar.from_ebnf(f'root ::= r0\n{rules}\nr3000 ::= "a"')
    assert g.accepts("aaa") and not g.accepts("b")


def test_class_of_scattered_code_points_is_exact() -> None:
    # Thousands of UTF-8 sequences sharing suffix states within one class.
    members = list(range(0x800, 0xD000, 3)) + list(range(0x10000, 0x10400, 5))
    cls = "".join(f"\\U{cp:08x}" if cp > 0xFFFF else f"\\u{cp:04x}" for cp in members)
    g = xgram.Grammar.from_ebnf(f"root ::= [{cls}]+")
    assert g.accepts("".join(chr(cp) for cp in members[::97]))
    for cp in members[::211]:
        assert g.accepts(chr(cp))
        assert not g.accepts(chr(cp + 1)) and not g.accepts(chr(cp + 2))


def test_nested_repetitions_stay_small() -> None:
    # 16**5 copies if unrolled naively; counters keep it to a few hundred states.
    g = xgram.Grammar.from_ebnf("root ::= ((((([ab]{16}){16}){16}){16}){16})")
    assert g.automaton_stats()["states"] < 2000
    assert g.accepts("ab" * (16**5 // 2))
    assert not g.accepts("ab" * (16**5 // 2) + "a")


def test_state_budget_is_a_clear_error(tight_budget) -> None:
    # Subset construction of (a|b)*a(a|b){n} needs 2**n states.
    g = xgram.Grammar.from_ebnf('root ::= [ab]* "a" ' + "[ab] " * 16)
    with pytest.raises(xgram.CompileBudgetError, match="state budget"):
        g.automaton_stats()
    small = xgram.Grammar.from_ebnf('root ::= [ab]* "a" ' + "[ab] " * 8)
    assert small.accepts("b" * 5 + "a" + "b" * 8) and not small.accepts("b" * 14)


def test_limits_are_validated() -> None:
    with pytest.raises(xgram.UsageError):
        xgram.set_compile_limits(max_states=0)


GRAMMAR_ALPHABET = list('root ::= ()|*+?{},0123456789"ab\\[]^-.#\n(=') + [
    "::=",
    "root ::= ",
    "x",
    "\\x4",
]


@settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
@given(st.lists(st.sampled_from(GRAMMAR_ALPHABET), max_size=30), st.binary(max_size=20))
def test_fuzzed_grammar_text(tight_budget, pieces, data) -> None:
    text = "".join(pieces)
    try:
        g = xgram.Grammar.from_ebnf(text)
        g.check(data)
        xgram.Grammar.from_ebnf(str(g)).check(data)
    except ACCEPTABLE:
        pass


REGEX_ALPHABET = list("ab()|*+?{},0123456789[]^$-.\\dwsDWSux:=!<>P") + [
    "(?:",
    "(?<n>",
    "\\u00e9",
    "[^",
    "{2,3}",
]


@settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
@given(st.lists(st.sampled_from(REGEX_ALPHABET), max_size=25), st.text(max_size=10))
def test_fuzzed_regex_text(tight_budget, pieces, text) -> None:
    try:
        xgram.Grammar.from_regex("".join(pieces)).check(text.encode("utf-8", "replace"))
    except ACCEPTABLE:
        pass


def test_nested_counted_repetitions_fold() -> None:
    # ((a{1,100}){1,100}){1,100} is a{1,1000000}: folded when parsed, matching 400
    # bytes takes milliseconds (nested counted calls made each byte cost seconds).
    g = xgram.Grammar.from_regex("((a{1,100}){1,100}){1,100}")
    assert str(g).strip() == 'root ::= "a"{1,1000000}'
    assert g.accepts("a" * 400) and not g.accepts("")
    # (x{2,3}){2,3}: two copies make 4-6, three make 6-9: every count in 4..9.
    assert str(xgram.Grammar.from_regex("(a{2,3}){2,3}")).strip() == 'root ::= "a"{4,9}'
    # (x{3,4}){0,2} is {0} | [3, 4] | [6, 8]: 1, 2 and 5 are not reachable.
    gapped = xgram.Grammar.from_regex("(a{3,4}){0,2}")
    assert [n for n in range(10) if gapped.accepts("a" * n)] == [0, 3, 4, 6, 7, 8]


@pytest.mark.parametrize("a,b,c,d", [(0, 2, 1, 3), (2, 3, 0, 2), (1, 1, 2, 5), (3, 5, 2, 2)])
def test_nested_counts_against_re(a: int, b: int, c: int, d: int) -> None:
    import re

    pattern = f"((ab|c){{{a},{b}}}){{{c},{d}}}"
    g = xgram.Grammar.from_regex(pattern)
    for n in range(0, 14):
        for text in ("ab" * n, "c" * n, "abc" * (n // 2)):
            assert bool(g.accepts(text)) == bool(re.fullmatch(pattern, text)), (pattern, text)
