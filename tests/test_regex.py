"""Regex front-end: Grammar.from_regex agrees with Python's `re` on generated strings.

Semantics follow ECMA-262 where it and Python differ; the test strings avoid those
corners: `\\d`/`\\w` are ASCII (re.ASCII for the oracle), and generated strings contain
no \\r, \\u2028, \\u2029 (which ECMA's `.` excludes and Python's includes) and no
Unicode spaces (which ECMA's `\\s` includes and ASCII `re` does not).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import xgram

PATTERNS = [
    r"abc",
    r"a|b|c",
    r"(ab|cd)+",
    r"a*b+c?",
    r"a{3}",
    r"a{2,}",
    r"a{2,4}",
    r"(?:ab){0,3}c",
    r"[a-z]+",
    r"[^a-z]+",
    r"[a-zA-Z_][a-zA-Z0-9_]*",
    r"\d+",
    r"\d{3}-\d{4}",
    r"\w+",
    r"\W+",
    r"\s*x\s*",
    r"\S+",
    r"\D*",
    r"[\d\s]+",
    r"[^\d]*",
    r"-?\d+(\.\d+)?([eE][+-]?\d+)?",
    r"(0|[1-9]\d*)",
    r"[0-9a-fA-F]{4}",
    r"#[0-9a-f]{6}",
    r"\d{4}-\d{2}-\d{2}",
    r"(\d{1,3}\.){3}\d{1,3}",
    r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}",
    r"https?://[a-z.]+(/[a-z]*)*",
    r"a.c",
    r".*",
    r".+x",
    r"(a|ab)(c|bcd)(d*)",
    r"(a*)*b",
    r"(a|b)*abb",
    r"x(?P<name>y+)z",
    r"(?P<word>[a-z]+) (?:and|or)",
    r"a+?b*?c??",
    r"a{2,3}?",
    r"[\-\]\[]+",
    r"\.\*\+\?\(\)\|",
    r"[.*+?]+",
    r"\x41\x42",
    r"\u00e9+",
    r"[à-ÿ]+",
    r"日本語?",
    r"[^\"\\]{0,10}",
    r"\"([^\"\\]|\\.)*\"",
    r"(true|false|null)",
    r"[+-]?(\d+|\d*\.\d+)",
    r"^abc$",
    r"^(a|b)+$",
    r"(a|)+",
    r"()",
    r"a{0}",
    r"(ab){1,2}(cd){0,1}",
    r"[a-c][d-f]{1,2}[g-i]?",
    r"\t\n",
    r"[\t ]+end",
    r"{",
    r"a{1",
    r"x{2}y{1,}z{0,3}",
]
assert len(PATTERNS) >= 50

NESTED_QUANTIFIER = re.compile(r"\)[*+?{]")

SAFE_EXTRA = "aAbcdxyz019 -_.,:;\"'\\/{}[]()*+?|é日\n\t"


def flags(pattern: str) -> int:
    # ECMA's \d and \w are ASCII; Python's match Unicode unless re.ASCII.
    return re.ASCII if re.search(r"\\[dwsDWS]", pattern) else 0


def oracle(pattern: str, text: str) -> bool:
    return re.fullmatch(pattern, text, flags=flags(pattern)) is not None


def safe(text: str) -> bool:
    return not any(c in text for c in "\r\u2028\u2029\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0") and all(
        not c.isspace() or c in " \t\n" for c in text
    )


@st.composite
def candidates(draw, pattern: str):
    base = draw(st.from_regex(re.compile(pattern, flags(pattern)), fullmatch=True))
    ops = draw(
        st.lists(
            st.tuples(st.integers(0, 3), st.integers(0, 64), st.sampled_from(SAFE_EXTRA)),
            max_size=3,
        )
    )
    text = base
    for op, pos, ch in ops:
        pos = pos % (len(text) + 1)
        if op == 0:
            text = text[:pos] + ch + text[pos:]
        elif op == 1 and text:
            text = text[:pos] + text[pos + 1 :]
        elif op == 2 and text:
            text = text[:pos] + ch + text[pos + 1 :]
    return base, text


@pytest.mark.parametrize("pattern", PATTERNS)
def test_regex_agrees_with_re(pattern: str) -> None:
    grammar = xgram.Grammar.from_regex(pattern)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(candidates(pattern))
    def check(pair) -> None:
        base, mutated = pair
        for text in (base, mutated):
            assume(safe(text))
            # Python's backtracking `re` (the oracle, not xgram) is exponential on
            # nested quantifiers such as (a*)*b; keep its inputs short.
            assume(len(text) <= (12 if NESTED_QUANTIFIER.search(pattern) else 40))
            want = oracle(pattern, text)
            got = grammar.accepts(text)
            assert got == want, f"pattern {pattern!r} on {text!r}: xgram {got}, re {want}"
            if want:
                for cut in range(len(text)):
                    assert grammar.accepts_prefix(text[:cut]), (pattern, text[:cut])

    check()


@pytest.mark.parametrize(
    "pattern, column, message",
    [
        (r"(x(?=a))+", 3, "lookahead"),
        (r"(a(?!b))", 3, "lookahead"),
        (r"(?<=a)b", 1, "lookbehind"),
        (r"(a)\1", 4, "backreference"),
        (r"(?P<x>a)(?P=x)", 9, "backreference"),
        (r"\bword", 1, "word boundaries"),
        (r"(?i)abc", 1, "inline flags"),
        (r"a**", 3, "nothing to repeat"),
        (r"*a", 1, "nothing to repeat"),
        (r"(ab", 1, "missing ')'"),
        (r"ab)", 3, "unmatched ')'"),
        (r"[abc", 1, "missing ']'"),
        (r"[z-a]", 3, "out of order"),
        (r"a{5,2}", 2, "out of order"),
        (r"a^b", 1, "matches no string"),
        (r"(^a){20}", 5, "'^' or '$'"),
        (r"\p{L}", 1, "property"),
        (r"\q", 1, "unknown escape"),
        (r"[]", 1, "no character"),
        ("\\ud800", 1, "surrogate"),
        (r"a{,2}", 2, "{0,n}"),
    ],
)
def test_unsupported_or_broken_regex_is_a_located_error(
    pattern: str, column: int, message: str
) -> None:
    with pytest.raises(xgram.GrammarError, match=re.escape(message)) as info:
        xgram.Grammar.from_regex(pattern)
    assert info.value.column == column


def test_ecma_named_groups() -> None:
    # Python's re (3.11) lacks `(?<name>...)`; ECMA-262 has it.
    g = xgram.Grammar.from_regex(r"(?<year>\d{4})-(?<month>\d{2})")
    assert g.accepts("2024-05") and not g.accepts("2024-5")


def test_regex_compiles_to_token_masks() -> None:
    info = xgram.TokenizerInfo([b"1", b"2", b"12", b"-", b"a", b"<eos>"], stop_token_ids=[5])
    compiled = xgram.GrammarCompiler(info).compile_regex(r"\d{2}-\d")
    matcher = xgram.GrammarMatcher(compiled)
    for token in (2, 3, 0):
        assert matcher.accept_token(token)
    assert matcher.is_completed() and matcher.accept_token(5)
