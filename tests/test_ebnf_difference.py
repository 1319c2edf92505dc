"""The difference operator of the EBNF dialect, ``a - b`` (W3C/ISO EBNF).

``a - b`` matches what ``a`` matches and ``b`` does not. Both operands must be
regular; the automaton builder compiles each to a DFA and splices their product
into the rule. The language is checked against Python's ``re`` (a string is in
``a - b`` when it fully matches ``a`` and not ``b``), on fixed cases and on
random operands.
"""

from __future__ import annotations

import itertools
import re
from typing import List, Tuple

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

import xgram

G = xgram.Grammar.from_ebnf


def strings(alphabet: str, max_len: int) -> List[str]:
    return ["".join(t) for n in range(max_len + 1) for t in itertools.product(alphabet, repeat=n)]


def test_keywords_taken_out_of_identifiers() -> None:
    g = G('root ::= [a-z]+ - ("if" | "for")')
    for s in strings("fio", 4):
        want = re.fullmatch("[a-z]+", s) is not None and s not in ("if", "for")
        assert g.accepts(s) == want, s


def test_binds_tighter_than_a_sequence_and_looser_than_a_quantifier() -> None:
    # `"x" [ab]* - "ab" "y"` is `"x" ([ab]* - "ab") "y"`.
    g = G('root ::= "x" [ab]* - "ab" "y"')
    assert g.accepts("xy") and g.accepts("xaaby") and g.accepts("xbay")
    assert not g.accepts("xaby")
    # `"ab"* - "ab"`: the quantifier belongs to the left operand.
    g = G('root ::= "ab"* - "ab"')
    assert g.accepts("") and g.accepts("abab") and not g.accepts("ab")


def test_left_associative_chain() -> None:
    g = G('root ::= [a-d] - "a" - "b"')
    assert [c for c in "abcd" if g.accepts(c)] == ["c", "d"]


def test_operands_may_reference_regular_rules() -> None:
    g = G('root ::= word - keyword\nword ::= letter+\nletter ::= [a-z]\nkeyword ::= "let" | "in"')
    assert g.accepts("lets") and g.accepts("i") and not g.accepts("let") and not g.accepts("in")


def test_inside_a_recursive_rule() -> None:
    g = G('root ::= item ("," root)?\nitem ::= [a-z]+ - "ab"')
    assert g.accepts("x,abc,b") and not g.accepts("x,ab") and not g.accepts("ab,x")


def test_multibyte_characters_are_taken_out_whole() -> None:
    g = G('root ::= [^"]* - ("é" | "日本")')
    assert not g.accepts("é") and not g.accepts("日本")
    assert g.accepts("e") and g.accepts("日") and g.accepts("日本語") and g.accepts("éé")
    assert g.accepts_prefix(b"\xc3")  # the lead byte of é: "éé" may follow


def test_prefixes_that_can_still_complete() -> None:
    g = G('root ::= ("a" | "ab") - "a"')
    assert g.accepts_prefix("a")  # "ab" is still possible
    assert not g.accepts("a") and g.accepts("ab")
    g = G('root ::= ("a" [b]?) - "a"')
    assert g.accepts_prefix("a") and g.accepts("ab") and not g.accepts("a")
    g = G('root ::= "a" - "a" | "c"')
    assert not g.accepts_prefix("a") and g.accepts("c")


def test_empty_difference_is_an_error() -> None:
    with pytest.raises(xgram.GrammarError, match="accepts no string"):
        xgram.GrammarCompiler(xgram.TokenizerInfo(["a"])).compile_grammar('root ::= "a" - "a"')


def test_minus_in_rule_names_is_not_the_operator() -> None:
    # Names may contain '-', and `a -b` is a sequence of two references.
    g = G('root ::= x-y -z\nx-y ::= "a"\n-z ::= "b"')
    assert g.accepts("ab")
    g = G('root ::= x-y - z\nx-y ::= [ab]\nz ::= "b"')
    assert g.accepts("a") and not g.accepts("b")


def test_round_trips_through_the_printer() -> None:
    for text in [
        'root ::= [a-z]+ - ("if" | "for")',
        'root ::= "x" ([ab]* - "ab") "y"',
        'root ::= ([a-d] - "a") - "b"',
        'root ::= [a-d] - ("a" - "b")',
        'root ::= ([a-c] - "b")*',
    ]:
        g = G(text)
        again = G(str(g))
        assert str(again) == str(g), text
        for s in strings("abcdxy", 3):
            assert g.accepts(s) == again.accepts(s), (text, s)


@pytest.mark.parametrize(
    "text, message",
    [
        ('root ::= "a" - ', "'-' needs an expression after it"),
        ('root ::= "a" - | "b"', "'-' needs an expression after it"),
        ('root ::= ("a" - )', "'-' needs an expression after it"),
    ],
)
def test_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(xgram.GrammarError, match=re.escape(message)):
        G(text)


@pytest.mark.parametrize(
    "text, message",
    [
        ('root ::= r - "a"\nr ::= "(" r ")" | ""', "refers to the recursive rule 'r'"),
        ('root ::= [a-z]* - r\nr ::= "a" r | "b"', "refers to the recursive rule 'r'"),
        ('root ::= [a-z]* - r\nr ::= "a" (= "b")', "has a lookahead"),
    ],
)
def test_operands_must_be_regular(text: str, message: str) -> None:
    compiler = xgram.GrammarCompiler(xgram.TokenizerInfo(["a", "b"]))
    with pytest.raises(xgram.GrammarError, match=re.escape(message)):
        compiler.compile_grammar(text)


# ------------------------------------------------------------------ random operands

ALPHABET = "abc"


def _leaves() -> st.SearchStrategy[Tuple[str, str]]:
    lit = st.text(ALPHABET, min_size=1, max_size=3).map(lambda s: (f'"{s}"', re.escape(s)))
    cls = st.sets(st.sampled_from(ALPHABET), min_size=1, max_size=2).map(
        lambda cs: (f"[{''.join(sorted(cs))}]", f"[{''.join(sorted(cs))}]")
    )
    neg = st.sampled_from(ALPHABET).map(lambda c: (f"[^{c}]", f"[^{c}]"))
    return st.one_of(lit, cls, neg)


def _extend(children: st.SearchStrategy[Tuple[str, str]]) -> st.SearchStrategy[Tuple[str, str]]:
    def seq(parts: List[Tuple[str, str]]) -> Tuple[str, str]:
        return (" ".join(f"({e})" for e, _ in parts), "".join(f"(?:{r})" for _, r in parts))

    def alt(parts: List[Tuple[str, str]]) -> Tuple[str, str]:
        return (" | ".join(f"({e})" for e, _ in parts), "|".join(f"(?:{r})" for _, r in parts))

    def quant(arg: Tuple[Tuple[str, str], str]) -> Tuple[str, str]:
        (e, r), q = arg
        return (f"({e}){q}", f"(?:{r}){q}")

    return st.one_of(
        st.lists(children, min_size=2, max_size=3).map(seq),
        st.lists(children, min_size=2, max_size=3).map(alt),
        st.tuples(children, st.sampled_from(["*", "+", "?", "{0,2}", "{2}"])).map(quant),
    )


OPERANDS = st.recursive(_leaves(), _extend, max_leaves=5)


@settings(max_examples=60, deadline=None)
@given(OPERANDS, OPERANDS)
def test_random_differences_match_re(a: Tuple[str, str], b: Tuple[str, str]) -> None:
    (a_ebnf, a_re), (b_ebnf, b_re) = a, b
    ra, rb = re.compile(a_re), re.compile(b_re)
    samples = strings(ALPHABET, 5)
    member = {s: ra.fullmatch(s) is not None and rb.fullmatch(s) is None for s in samples}
    if not any(member.values()):
        return  # possibly empty: compiling it is the error tested above
    g = G(f'root ::= "<" (({a_ebnf}) - ({b_ebnf})) ">"')
    for s in samples:
        assert g.accepts(f"<{s}>") == member[s], (a_ebnf, b_ebnf, s)
        # Whatever can still complete within the samples must stay a viable prefix.
        if member[s]:
            assert g.accepts_prefix(f"<{s}"), (a_ebnf, b_ebnf, s)


def test_a_product_past_the_state_budget_is_a_clear_error() -> None:
    compiler = xgram.GrammarCompiler(xgram.TokenizerInfo(["a", "b"]), cache_enabled=False)
    saved = xgram.get_compile_limits()
    xgram.set_compile_limits(max_states=20_000)
    try:
        with pytest.raises(xgram.CompileBudgetError, match="state budget"):
            compiler.compile_grammar('root ::= .{0,200} - (.{0,100} "a" .{0,100})')
    finally:
        xgram.set_compile_limits(max_states=saved[0], max_seconds=saved[1])
