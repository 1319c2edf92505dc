"""Anchors anywhere in a regex, and EBNF intersection `a & b`.

Anchors are checked against Python's ``re`` on every string over {a, b} up to
length 4, for random regexes that put ``^`` and ``$`` inside groups,
alternatives and repetitions: full-match mode (``Grammar.from_regex``) and
search mode (JSON Schema ``pattern``). ``$`` in Python also matches before a
final newline; the alphabet has none, so the two engines mean the same.
"""

from __future__ import annotations

import itertools
import json
import random
import re

import pytest

import xgram

STRINGS = [""] + ["".join(p) for n in range(1, 5) for p in itertools.product("ab", repeat=n)]


def _random_regex(rnd: random.Random, depth: int = 0) -> str:
    r = rnd.random()
    if depth > 3 or r < 0.3:
        return rnd.choice(["a", "b", "^", "$", "", "a", "b"])
    if r < 0.55:
        return _random_regex(rnd, depth + 1) + _random_regex(rnd, depth + 1)
    if r < 0.75:
        return f"({_random_regex(rnd, depth + 1)}|{_random_regex(rnd, depth + 1)})"
    if r < 0.9:
        quantifier = rnd.choice(["*", "+", "?", "{2}", "{1,3}"])
        return f"({_random_regex(rnd, depth + 1)}){quantifier}"
    return f"({_random_regex(rnd, depth + 1)})"


def _regexes(count: int, seed: int) -> list:
    rnd = random.Random(seed)
    out = []
    while len(out) < count:
        rx = _random_regex(rnd)
        if "^" in rx or "$" in rx:
            out.append(rx)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_anchors_anywhere_match_python(seed: int) -> None:
    checked = 0
    for rx in _regexes(40, seed):
        python = re.compile(rx)
        try:
            full = xgram.Grammar.from_regex(rx)
        except xgram.GrammarError as e:
            assert "matches no string" in str(e), rx
            assert not any(python.fullmatch(s) for s in STRINGS), rx
            full = None
        try:
            search = xgram.Grammar.from_json_schema({"type": "string", "pattern": rx})
        except xgram.SchemaError as e:
            assert "no JSON value" in str(e), rx
            assert not any(python.search(s) for s in STRINGS), rx
            search = None
        for s in STRINGS:
            if full is not None:
                assert full.accepts(s) == (python.fullmatch(s) is not None), (rx, s)
            if search is not None:
                assert search.accepts(json.dumps(s)) == (python.search(s) is not None), (rx, s)
            checked += 1
    assert checked > 0


@pytest.mark.parametrize(
    "pattern, yes, no",
    [
        ("(^a|b)", ["a", "ab", "xb", "b"], ["xa", ""]),
        ("a$|b", ["a", "xa", "b", "bx"], ["ax", ""]),
        ("(^|/)x", ["x", "a/x", "/x"], ["ax", ""]),
        ("^(a|b$)", ["a", "ax", "b"], ["bx", "xa"]),
    ],
)
def test_anchored_alternatives_in_patterns(pattern: str, yes: list, no: list) -> None:
    g = xgram.Grammar.from_json_schema({"type": "string", "pattern": pattern})
    for s in yes:
        assert g.accepts(json.dumps(s)), s
    for s in no:
        assert not g.accepts(json.dumps(s)), s


def test_anchor_in_a_long_repetition_is_a_located_error() -> None:
    with pytest.raises(xgram.GrammarError, match="'\\^' or '\\$'") as info:
        xgram.Grammar.from_regex("(^a){20}")
    assert info.value.column == 5


def test_intersection_operator() -> None:
    g = xgram.Grammar.from_ebnf('root ::= [a-z]+ & ("a" [a-z]*)')
    assert g.accepts("abc") and g.accepts("a")
    assert not g.accepts("bc") and not g.accepts("")
    # one level with '-', left-associative: (x & y) - z
    g = xgram.Grammar.from_ebnf('root ::= [a-z]{2,4} & [a-c]+ - "ab"')
    assert g.accepts("abc") and g.accepts("ca")
    assert not g.accepts("ab") and not g.accepts("abcab") and not g.accepts("dd")
    # printed back and parsed again
    again = xgram.Grammar.from_ebnf(str(g))
    assert again.accepts("abc") and not again.accepts("ab")


@pytest.mark.parametrize(
    "ebnf, judge",
    [
        # long repetitions are counted in the product, not spelled out
        (
            "root ::= [a-d]* - [a-c]{3,20}",
            lambda s: not (set(s) <= set("abc") and 3 <= len(s) <= 20),
        ),
        (
            "root ::= [a-c]{17,} & ([a-d] [a-d])*",
            lambda s: set(s) <= set("abc") and len(s) >= 17 and len(s) % 2 == 0,
        ),
        ('root ::= ("ab" | "c"){16} & [a-d]*', lambda s: re.fullmatch("(ab|c){16}", s) is not None),
        # a unit that is not prefix-free ("a" then "ab") takes the plain product
        (
            'root ::= [a-d]* & ("a" | "ab"){16,18}',
            lambda s: re.fullmatch("(a|ab){16,18}", s) is not None,
        ),
    ],
)
def test_products_with_long_repetitions(ebnf, judge) -> None:
    g = xgram.Grammar.from_ebnf(ebnf)
    rng = random.Random(5)
    samples = (
        ["ab" * n for n in range(20)] + ["c" * n for n in range(25)] + ["a" * n for n in range(25)]
    )
    samples += ["".join(rng.choice("abcd") for _ in range(rng.randrange(40))) for _ in range(1500)]
    for s in samples:
        assert g.accepts(s) == judge(s), s


def test_intersection_needs_regular_operands_and_an_operand() -> None:
    with pytest.raises(xgram.GrammarError, match="'&' needs an expression"):
        xgram.Grammar.from_ebnf('root ::= "a" & ')
    with pytest.raises(xgram.GrammarError, match="regular"):
        xgram.Grammar.from_ebnf('root ::= x & "a"\nx ::= "a" x | "b"').accepts("a")


def test_string_constraints_intersect() -> None:
    g = xgram.Grammar.from_json_schema(
        {"type": "string", "pattern": "a", "allOf": [{"pattern": "b$"}], "minLength": 3}
    )
    for s, ok in [("aab", True), ("xab", True), ("ab", False), ("ba", False), ("aabc", False)]:
        assert g.accepts(json.dumps(s)) == ok, s
    g = xgram.Grammar.from_json_schema({"type": "string", "format": "email", "maxLength": 8})
    assert g.accepts('"a@b.co"') and not g.accepts('"aaaa@bbbb.com"')
    g = xgram.Grammar.from_json_schema(
        {"type": "string", "pattern": "^[a-z@.]+$", "format": "email"}
    )
    assert g.accepts('"a@b.co"') and not g.accepts('"A@b.co"')
