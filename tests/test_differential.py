"""Differential tests: xgram accepts exactly what an independent parser accepts.

Each grammar of tests/differential_grammars.py is written once in the DSL of
tests/grammar_dsl.py, which renders it as xgram EBNF, as a lark grammar (Earley
parser) and, when it is regular, as a pattern for the ``regex`` package. Strings
are random derivations of the grammar (hypothesis) and mutations of them. The
oracles:

* membership: ``regex.fullmatch`` for regular grammars, lark's Earley parser
  otherwise (the two are cross-checked on the regular grammars);
* prefix viability (for ``check()``'s status and offset): ``regex`` partial
  matching for regular grammars; lark on the DSL's *prefix grammar* (the grammar
  of all prefixes of the language) otherwise; for grammars with lookahead
  assertions, partial matching (an over-approximation there) plus a bounded
  search for a completion;
* the builtin JSON grammar: ``json.loads`` (NaN/Infinity refused).
"""

from __future__ import annotations

import bisect
import functools
import json
import os
import sys
from typing import Callable, List, Optional

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from differential_grammars import (  # noqa: E402
    ALL_SPECS,
    JSON_LIKE,
    LOOKAHEAD_CONFLICT,
)
from grammar_dsl import (  # noqa: E402
    EndsOracle,
    GrammarSpec,
    LarkOracle,
    RegexOracle,
    byte_mutated,
    mutated,
)

import xgram  # noqa: E402

SPECS = {s.name: s for s in ALL_SPECS}
SPEC_IDS = list(SPECS)

COMMON = dict(
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)

# Examples per grammar and test. Slow oracles (lark on big grammars) get fewer.
FEW = {
    "gbnf_json": 0.4,
    "arithmetic": 0.5,
    "gbnf_arithmetic": 0.4,
    "bounded_large": 0.4,
    "nullable_counted": 0.6,
    "left_recursion": 0.7,
    "deep_nesting": 0.6,
    "nullable_rules": 0.7,
    "json_like": 0.7,
    "bounded_small": 0.7,
    "ambiguous_star": 0.7,
}


# XGRAM_DIFF_SCALE=10 runs ten times as many examples (for bug hunting).
SCALE = float(os.environ.get("XGRAM_DIFF_SCALE", "1"))


def n_examples(base: int, name: str = "") -> int:
    return max(5, int(base * FEW.get(name, 1.0) * SCALE))


# ---------------------------------------------------------------------------
# Compiled grammars and oracles (built once per grammar)
# ---------------------------------------------------------------------------
class Subject:
    """xgram's grammar for a spec, the oracles, and helpers to query them."""

    def __init__(self, spec: GrammarSpec) -> None:
        self.spec = spec
        self.ebnf = spec.to_ebnf()
        self.grammar = xgram.Grammar.from_ebnf(self.ebnf)
        # The printed grammar must parse back to an equivalent grammar.
        self.printed = str(self.grammar)
        self.reparsed = xgram.Grammar.from_ebnf(self.printed)
        self.regular = spec.is_regular()
        self.regex = self.lark = self.lark_prefix = self.ends = None
        if self.regular:
            self.regex = RegexOracle(spec.to_regex())
        elif not spec.has_lookahead:
            self.lark = LarkOracle(spec.to_lark())
            self.lark_prefix = LarkOracle(spec.prefix_spec().to_lark())
        else:
            # Recursion and lookaheads: neither lark nor regex can express it.
            self.ends = EndsOracle(spec)
        self.alphabet = spec.alphabet()

    # -- oracle ------------------------------------------------------------------
    @property
    def oracle_name(self) -> str:
        return "regex" if self.regex else "lark" if self.lark else "brute_force"

    def oracle_accepts(self, s: str) -> bool:
        if self.regex is not None:
            return self.regex.accepts(s)
        if self.lark is not None:
            return self.lark.accepts(s)
        return self.ends.accepts(s)

    def oracle_viable(self, s: str) -> Optional[bool]:
        """Some continuation of `s` is in the language (None: unknown)."""
        if self.ends is not None:
            return None
        if self.regex is not None:
            if not self.regex.accepts_prefix(s):
                return False
            if not self.spec.has_lookahead:
                return True
            # With lookaheads regex's partial matching over-approximates (it
            # ignores assertions that reach past the end of the input): look for
            # an actual completion. Every viable prefix of the lookahead grammars
            # here has a completion of at most 4 characters.
            return find_completion(self.regex, s, self.alphabet, max_len=5) is not None
        return self.lark_prefix.accepts(s)

    # -- messages ------------------------------------------------------------------
    def describe(self, s, **verdicts) -> str:
        parts = ", ".join(f"{k}={v!r}" for k, v in verdicts.items())
        return f"grammar {self.spec.name!r}: input {s!r}: {parts}\n--- xgram EBNF ---\n{self.ebnf}"


@functools.lru_cache(maxsize=None)
def subject(name: str) -> Subject:
    return Subject(SPECS[name])


def find_completion(
    oracle: RegexOracle, s: str, alphabet: str, max_len: int, budget: int = 20000
) -> Optional[str]:
    """Breadth-first search for c (len <= max_len) with s + c in the language."""
    frontier = [s]
    steps = 0
    for _ in range(max_len + 1):
        nxt = []
        for p in frontier:
            if oracle.accepts(p):
                return p[len(s) :]
            for c in alphabet:
                steps += 1
                if steps > budget:
                    raise RuntimeError(f"completion search for {s!r} ran out of budget")
                if oracle.accepts_prefix(p + c):
                    nxt.append(p + c)
        frontier = nxt
    return None


def char_index_of_byte(s: str, offset: int) -> int:
    """Index of the character of `s` whose UTF-8 encoding contains byte `offset`."""
    starts = []
    pos = 0
    for ch in s:
        starts.append(pos)
        pos += len(ch.encode("utf-8"))
    return bisect.bisect_right(starts, offset) - 1


def expected_position(data: bytes, offset: int):
    prefix = data[:offset].decode("utf-8")
    line = prefix.count("\n") + 1
    column = len(prefix) - (prefix.rfind("\n") + 1) + 1
    return line, column


# ---------------------------------------------------------------------------
# Shared checks
# ---------------------------------------------------------------------------
def check_offset_consistency(g: xgram.Grammar, data: bytes, where: Callable[..., str]) -> None:
    """For a rejected input, check() names the first byte that cannot follow."""
    r = g.check(data)
    if r.status != "rejected":
        assert r.offset == len(data), where(data, check=r)
        return
    assert 0 <= r.offset < len(data), where(data, check=r)
    assert g.accepts_prefix(data[: r.offset]), where(data, check=r, note="prefix before offset")
    assert not g.accepts_prefix(data[: r.offset + 1]), where(
        data, check=r, note="prefix through offset is still viable"
    )


def check_against_oracle(sub: Subject, s: str) -> None:
    """Membership, check() status and offset for `s` against the oracle."""
    data = s.encode("utf-8")
    expected = sub.oracle_accepts(s)
    got = sub.grammar.accepts(s)
    assert got == expected, sub.describe(s, xgram=got, **{sub.oracle_name: expected})
    got_bytes = sub.grammar.accepts(data)
    assert got_bytes == expected, sub.describe(
        data, xgram_bytes=got_bytes, **{sub.oracle_name: expected}
    )
    got_printed = sub.reparsed.accepts(s)
    assert got_printed == expected, sub.describe(
        s, xgram_printed_grammar=got_printed, **{sub.oracle_name: expected}, printed=sub.printed
    )

    r = sub.grammar.check(s)
    if expected:
        assert r.status == "accepted" and r.offset == len(data), sub.describe(s, check=r)
        return
    if r.status == "prefix":
        viable = sub.oracle_viable(s)
        assert viable is not False, sub.describe(s, check=r, oracle_prefix_viable=viable)
        assert r.offset == len(data), sub.describe(s, check=r)
        return
    assert r.status == "rejected", sub.describe(s, check=r)
    check_offset_consistency(sub.grammar, data, lambda d, **kw: sub.describe(d, **kw))
    # First bad character according to xgram; the oracle must agree that the text
    # before it is viable and the text through it is not.
    k = char_index_of_byte(s, r.offset)
    before, through = s[:k], s[: k + 1]
    assert sub.oracle_viable(before) is not False, sub.describe(
        s, check=r, note=f"xgram says {before!r} is viable, the oracle does not"
    )
    assert sub.oracle_viable(through) is not True, sub.describe(
        s, check=r, note=f"xgram says {through!r} is not viable, the oracle says it is"
    )
    start = len(before.encode("utf-8"))
    if r.offset == start:
        assert (r.line, r.column) == expected_position(data, r.offset), sub.describe(s, check=r)


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def derived(name: str) -> st.SearchStrategy[str]:
    return SPECS[name].derivations()


@functools.lru_cache(maxsize=None)
def mutants(name: str) -> st.SearchStrategy[str]:
    return mutated(derived(name), SPECS[name].alphabet())


# ---------------------------------------------------------------------------
# Tests over all grammars
# ---------------------------------------------------------------------------
def test_enough_grammars():
    assert len(ALL_SPECS) >= 20
    assert sum(1 for s in ALL_SPECS if s.ebnf is not None) >= 5


@pytest.mark.parametrize("name", SPEC_IDS)
def test_oracles_build(name):
    sub = subject(name)
    # The reprinted grammar prints to itself (printing is a normal form).
    assert str(xgram.Grammar.from_ebnf(sub.printed)) == sub.printed


LOOKAHEAD_LIMITATION = pytest.mark.xfail(
    strict=True,
    reason="known limitation: a lookahead that contradicts what its caller expects next is "
    "not detected, so such prefixes count as live (README, Lookahead)",
)


def _mark_known_limitation(request, name):
    if name == "lookahead_conflict":
        request.node.add_marker(LOOKAHEAD_LIMITATION)


@pytest.mark.parametrize("name", SPEC_IDS)
def test_derived_strings(name, request):
    """Random derivations: the oracle and xgram accept them (modulo lookaheads),
    and every byte prefix is accepts_prefix."""
    _mark_known_limitation(request, name)
    sub = subject(name)

    @settings(max_examples=n_examples(30, name), **COMMON)
    @given(derived(name))
    def run(s):
        data = s.encode("utf-8")
        if not sub.spec.has_lookahead:
            # Derivations ignore lookaheads; without them they are in the language.
            assert sub.oracle_accepts(s), sub.describe(s, note="oracle rejects a derivation")
        check_against_oracle(sub, s)
        if sub.grammar.accepts(s):
            for i in range(len(data)):
                assert sub.grammar.accepts_prefix(data[:i]), sub.describe(
                    data, note=f"prefix of length {i} of an accepted input is not viable"
                )

    run()


@pytest.mark.parametrize("name", SPEC_IDS)
def test_mutated_strings(name, request):
    """Mutations of derivations: same verdict, check() status and first bad byte."""
    _mark_known_limitation(request, name)
    sub = subject(name)

    @settings(max_examples=n_examples(70, name), **COMMON)
    @given(mutants(name))
    def run(s):
        check_against_oracle(sub, s)

    run()


UTF8_SPECS = [
    "unicode_classes",
    "unicode_classes_escaped",
    "negated_unicode",
    "any_char",
    "string_literal",
    "literal_escapes",
    "gbnf_japanese",
    "gbnf_list",
]


@pytest.mark.parametrize("name", UTF8_SPECS)
def test_byte_mutations(name):
    """Byte-level mutations (may break UTF-8): invalid UTF-8 is never accepted and
    the first bad byte is exact."""
    sub = subject(name)

    @settings(max_examples=n_examples(80, name), **COMMON)
    @given(byte_mutated(derived(name)))
    def run(data):
        got = sub.grammar.accepts(data)
        r = sub.grammar.check(data)
        check_offset_consistency(sub.grammar, data, lambda d, **kw: sub.describe(d, **kw))
        try:
            s = data.decode("utf-8")
        except UnicodeDecodeError as e:
            assert not got, sub.describe(data, xgram=got, note=f"invalid UTF-8: {e}")
            valid = data[: e.start].decode("utf-8")
            if sub.oracle_viable(valid):
                assert r.offset >= e.start, sub.describe(data, check=r, note=f"{valid!r} is viable")
            if e.reason != "unexpected end of data":
                assert r.status == "rejected" and r.offset <= e.end, sub.describe(
                    data, check=r, note=str(e)
                )
            return
        check_against_oracle(sub, s)

    run()


# bounded_large is left out: lark needs seconds just to build its prefix grammar.
REGULAR_NO_LOOKAHEAD = [
    s.name
    for s in ALL_SPECS
    if s.is_regular() and not s.has_lookahead and s.name != "bounded_large"
]


@pytest.mark.parametrize("name", REGULAR_NO_LOOKAHEAD)
def test_lark_and_regex_agree(name):
    """The two oracles (and the prefix-grammar construction) agree on regular
    grammars, so the lark rendering used for the others is trustworthy."""
    spec = SPECS[name]
    sub = subject(name)
    lark_oracle = lark_for(name)
    lark_prefix = lark_prefix_for(name)

    slow = {"nullable_counted": 3, "bounded_small": 4, "ambiguous_star": 4}
    n = slow[name] if name in slow and SCALE == 1 else n_examples(12, name)

    @settings(max_examples=n, **COMMON)
    @given(st.one_of(derived(name), mutants(name)))
    def run(s):
        r = sub.regex.accepts(s)
        lk = lark_oracle.accepts(s)
        assert r == lk, f"{spec.name}: {s!r}: regex={r} lark={lk}"
        rp = sub.regex.accepts_prefix(s)
        lp = lark_prefix.accepts(s)
        assert rp == lp, f"{spec.name}: {s!r}: regex partial={rp} lark prefix grammar={lp}"

    run()


@pytest.mark.parametrize(
    "name",
    [
        s.name
        for s in ALL_SPECS
        if s.name != "bounded_large" and (s.is_regular() or not s.has_lookahead)
    ],
)
def test_brute_force_oracle_agrees(name):
    """The brute-force oracle (used for recursive grammars with lookaheads) agrees
    with lark / regex on every grammar they can express."""
    sub = subject(name)
    ends = EndsOracle(sub.spec)

    @settings(max_examples=n_examples(8), **COMMON)
    @given(st.one_of(derived(name), mutants(name)).map(lambda s: s[:30]))
    def run(s):
        want = sub.oracle_accepts(s)
        got = ends.accepts(s)
        assert got == want, sub.describe(s, brute_force=got, **{sub.oracle_name: want})

    run()


@functools.lru_cache(maxsize=None)
def lark_for(name: str) -> LarkOracle:
    return LarkOracle(SPECS[name].to_lark())


@functools.lru_cache(maxsize=None)
def lark_prefix_for(name: str) -> LarkOracle:
    return LarkOracle(SPECS[name].prefix_spec().to_lark())


# ---------------------------------------------------------------------------
# Long inputs (thousands of bytes) against hand-written oracles
# ---------------------------------------------------------------------------
def _balanced_scan(s: str) -> Optional[int]:
    """Open brackets left after `s`, or None when `s` goes wrong."""
    stack = []
    for ch in s:
        if ch in "([":
            stack.append(ch)
        elif ch in ")]":
            if not stack or stack.pop() != "(["[")]".index(ch)]:
                return None
        else:
            return None
    return len(stack)


def _mixed_split(s: str):
    import re

    return re.fullmatch(r"(a*)(?:c(b*))?", s)


def _mixed_viable(s: str) -> bool:
    m = _mixed_split(s)
    return bool(m) and (m.group(2) is None or len(m.group(2)) <= len(m.group(1)))


def _balanced_from_moves(moves: List[int]) -> str:
    out, stack = [], []
    for m in moves:
        if m < 2:
            out.append("(["[m])
            stack.append(")]"[m])
        elif stack:
            out.append(stack.pop())
    return "".join(out) + "".join(reversed(stack))


NUMBERS = st.lists(st.integers(0, 10**6), min_size=100, max_size=500).map(
    lambda xs: "+".join(map(str, xs))
)
LONG_CASES = {
    # name: (EBNF, generator of (mostly) valid strings, accepts, viable)
    "left_recursion": (
        'root ::= e\ne ::= e "+" t | t\nt ::= [0-9]+\n',
        NUMBERS,
        lambda s: RegexOracle(r"[0-9]+(?:\+[0-9]+)*").accepts(s),
        lambda s: RegexOracle(r"[0-9]+(?:\+[0-9]+)*").accepts_prefix(s),
    ),
    "right_recursion": (
        'root ::= r\nr ::= t "+" r | t\nt ::= [0-9]+\n',
        NUMBERS,
        lambda s: RegexOracle(r"[0-9]+(?:\+[0-9]+)*").accepts(s),
        lambda s: RegexOracle(r"[0-9]+(?:\+[0-9]+)*").accepts_prefix(s),
    ),
    "tail_and_non_tail_calls": (
        'root ::= r\nr ::= "a" r | "a" r "b" | "c"\n',
        st.tuples(st.integers(200, 1500), st.integers(0, 1500)).map(
            lambda nm: "a" * nm[0] + "c" + "b" * min(nm[0], nm[1])
        ),
        lambda s: _mixed_viable(s) and "c" in s,
        _mixed_viable,
    ),
    "palindromes": (
        'root ::= p\np ::= "a" p "a" | "b" p "b" | "a" | "b" | ""\n',
        st.text(alphabet="ab", min_size=200, max_size=1000).flatmap(
            lambda h: st.sampled_from([h + h[::-1], h + "a" + h[::-1], h + "b" + h[::-1]])
        ),
        lambda s: set(s) <= {"a", "b"} and s == s[::-1],
        lambda s: set(s) <= {"a", "b"},
    ),
    "balanced": (
        'root ::= p\np ::= ("(" p ")" | "[" p "]")*\n',
        st.lists(st.integers(0, 3), min_size=200, max_size=1500).map(_balanced_from_moves),
        lambda s: _balanced_scan(s) == 0,
        lambda s: _balanced_scan(s) is not None,
    ),
    "ambiguous_ss": (
        'root ::= s\ns ::= s s | "a" | "b"\n',
        st.text(alphabet="ab", min_size=60, max_size=150),
        lambda s: len(s) > 0 and set(s) <= {"a", "b"},
        lambda s: set(s) <= {"a", "b"},
    ),
}


@pytest.mark.parametrize("name", list(LONG_CASES))
def test_long_inputs(name):
    ebnf, gen, accepts, viable = LONG_CASES[name]
    g = xgram.Grammar.from_ebnf(ebnf)
    lengths: List[int] = []

    @settings(max_examples=n_examples(25), **COMMON)
    @given(st.one_of(gen, mutated(gen, "abc()[]+0x")))
    def run(s):
        lengths.append(len(s))
        data = s.encode("utf-8")
        where = f"long input for {name!r} ({len(s)} chars): {s[:60]!r}..."
        want = accepts(s)
        r = g.check(s)
        assert (r.status == "accepted") == want, f"{where} check={r} oracle={want}"
        if want:
            return
        if r.status == "prefix":
            assert viable(s), f"{where} check={r}, but nothing completes it"
            return
        k = char_index_of_byte(s, r.offset)
        assert viable(s[:k]) and not viable(s[: k + 1]), (
            f"{where} check={r}: the first bad character is elsewhere"
        )
        check_offset_consistency(g, data, lambda d, **kw: f"{where} {kw}")

    run()
    assert max(lengths) >= 200 or name == "ambiguous_ss", sorted(lengths)


# ---------------------------------------------------------------------------
# Union and concatenation of grammars
# ---------------------------------------------------------------------------
COMBINABLE = [s.name for s in ALL_SPECS if s.is_regular() and s.name != "bounded_large"]


@settings(max_examples=n_examples(60), **COMMON)
@given(st.data())
def test_union_and_concat(data):
    a = data.draw(st.sampled_from(COMBINABLE), label="first")
    b = data.draw(st.sampled_from(COMBINABLE), label="second")
    sa, sb = subject(a), subject(b)
    union = xgram.Grammar.union(sa.grammar, sb.grammar)
    concat = xgram.Grammar.concat(sa.grammar, sb.grammar)
    # A lookahead of the first grammar may look into the text of the second.
    concat_re = RegexOracle("(?:" + sa.regex.pattern + ")(?:" + sb.regex.pattern + ")")

    u = data.draw(st.one_of(derived(a), derived(b), mutants(a), mutants(b)), label="union input")
    expected = sa.regex.accepts(u) or sb.regex.accepts(u)
    assert union.accepts(u) == expected, (
        f"union({a}, {b}) on {u!r}: xgram={union.accepts(u)} regex={expected}"
    )

    x = data.draw(derived(a), label="left")
    y = data.draw(derived(b), label="right")
    c = data.draw(
        st.one_of(st.just(x + y), mutated(st.just(x + y), sa.alphabet + sb.alphabet)),
        label="concat input",
    )
    expected = concat_re.accepts(c)
    assert concat.accepts(c) == expected, (
        f"concat({a}, {b}) on {c!r}: xgram={concat.accepts(c)} regex={expected}"
    )
    check_offset_consistency(
        concat, c.encode("utf-8"), lambda d, **kw: f"concat({a}, {b}) on {d!r}: {kw}"
    )


# ---------------------------------------------------------------------------
# Lookahead assertions: prefix viability must account for pending assertions
# ---------------------------------------------------------------------------
@LOOKAHEAD_LIMITATION
def test_lookahead_prefix_is_completable():
    """`accepts_prefix(s)` promises that some continuation of `s` is accepted.

    In LOOKAHEAD_CONFLICT, root ::= a [a-d] [a-d] | e "c" "e"?, with
    a ::= [ab] (= "c" | "dd" | "bc") and e ::= "e" (= "c" [cd]). The e branch is
    dead: nothing completes "e" or "ec".
    """
    sub = subject(LOOKAHEAD_CONFLICT.name)
    for s in [
        "a",
        "b",
        "ac",
        "ad",
        "add",
        "acx",
        "ab",
        "abc",
        "abca",
        "bb",
        "bbc",
        "aa",
        "ba",
        "bd",
        "e",
        "ec",
        "ece",
        "ecd",
    ]:
        completion = find_completion(sub.regex, s, sub.alphabet, max_len=4)
        got = sub.grammar.accepts_prefix(s)
        assert got == (completion is not None), sub.describe(
            s, xgram_accepts_prefix=got, completion=completion
        )


@LOOKAHEAD_LIMITATION
def test_lookahead_conflict_minimal():
    """Minimal case: x's assertion (= "xz") contradicts root's "xy"; the language
    is empty, so no non-empty input is a viable prefix."""
    g = xgram.Grammar.from_ebnf('root ::= x "xy"\nx ::= "b" (= "xz")\n')
    for s in ["b", "bx"]:
        assert not g.accepts_prefix(s), (s, g.check(s))
    assert g.check("bxy").offset == 0, g.check("bxy")


# ---------------------------------------------------------------------------
# The builtin JSON grammar against json.loads
# ---------------------------------------------------------------------------
JSON = xgram.Grammar.builtin_json_grammar()


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def json_ok(s: str) -> bool:
    try:
        json.loads(s, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return False
    return True


JSON_WS = st.text(alphabet=" \t\n\r", max_size=3)
JSON_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from('"\\/\b\f\n\r\t\x00\x1f\x7f\u2028\U0001f600\u00e9'),
    ),
    max_size=8,
)
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    JSON_TEXT,
)


def _json_containers(children):
    return st.one_of(
        st.lists(children, max_size=4), st.dictionaries(JSON_TEXT, children, max_size=4)
    )


JSON_VALUES = st.recursive(JSON_SCALARS, _json_containers, max_leaves=12)


@st.composite
def json_documents(draw) -> str:
    value = draw(JSON_VALUES)
    indent = draw(st.one_of(st.none(), st.integers(0, 3), st.sampled_from(["\t", " \r\n", ""])))
    separators = draw(
        st.sampled_from([None, (",", ":"), (", ", ": "), (" ,\n", " :\t"), ("\r,", ":\r")])
    )
    text = json.dumps(
        value,
        indent=indent,
        separators=separators,
        ensure_ascii=draw(st.booleans()),
        sort_keys=draw(st.booleans()),
    )
    return draw(JSON_WS) + text + draw(JSON_WS)


JSON_ALPHABET = (
    '{}[]:,"\\ \t\n\r-+.eE0123456789tfnrulsabu/xX\x00\x1f\x7f\u00e9\u2028\U0001f600\ufeffIN'
)
JSON_LARK_PREFIX = LarkOracle(JSON_LIKE.prefix_spec().to_lark())
JSON_LARK = LarkOracle(JSON_LIKE.to_lark())


def json_describe(s, **verdicts):
    parts = ", ".join(f"{k}={v!r}" for k, v in verdicts.items())
    return f"builtin JSON grammar: input {s!r}: {parts}"


def check_json(s: str) -> None:
    data = s.encode("utf-8")
    expected = json_ok(s)
    got = JSON.accepts(s)
    assert got == expected, json_describe(s, xgram=got, json_loads=expected)
    assert JSON.accepts(data) == expected, json_describe(data, note="bytes differ from str")
    check_offset_consistency(JSON, data, lambda d, **kw: json_describe(d, **kw))
    r = JSON.check(s)
    if expected:
        assert r.status == "accepted", json_describe(s, check=r)
    elif len(s) <= 60:
        # Small inputs: the status and first bad character against lark on the
        # DSL's ECMA-404 prefix grammar.
        if r.status == "prefix":
            assert JSON_LARK_PREFIX.accepts(s), json_describe(s, check=r, lark_prefix=False)
        else:
            k = char_index_of_byte(s, r.offset)
            assert JSON_LARK_PREFIX.accepts(s[:k]), json_describe(s, check=r, bad_char=k)
            assert not JSON_LARK_PREFIX.accepts(s[: k + 1]), json_describe(s, check=r, bad_char=k)


@settings(max_examples=n_examples(150), **COMMON)
@given(json_documents())
@example('{"a": [1, 2.5e-3, true, null], "\\ud800": "\\u00e9"}')
@example("  -0.0E+00\r\n")
def test_json_documents_accepted(s):
    assert json_ok(s), s
    check_json(s)
    data = s.encode("utf-8")
    step = max(1, len(data) // 64)
    for i in range(0, len(data), step):
        assert JSON.accepts_prefix(data[:i]), json_describe(data, prefix_length=i)


@settings(max_examples=n_examples(150), **COMMON)
@given(mutated(json_documents(), JSON_ALPHABET))
@example("NaN")
@example("[Infinity]")
@example("-Infinity")
@example("[1,]")
@example("01")
@example('"\x1f"')
@example('"\\x41"')
@example("\ufeff{}")
@example("[1\u0663]")
@example('{"a" 1}')
@example("1.")
@example(".5")
@example("1e")
@example("tru")
def test_json_mutants(s):
    check_json(s)


@settings(max_examples=n_examples(100), **COMMON)
@given(st.one_of(derived(JSON_LIKE.name), mutants(JSON_LIKE.name)))
def test_json_dsl_strings(s):
    """Strings of the DSL's ECMA-404 grammar (odd escapes, lone surrogates in
    \\u escapes, deep whitespace) and their mutants: xgram's builtin grammar,
    json.loads and lark agree."""
    lark_verdict = JSON_LARK.accepts(s)
    assert json_ok(s) == lark_verdict, json_describe(s, json_loads=json_ok(s), lark=lark_verdict)
    check_json(s)


@settings(max_examples=n_examples(60), **COMMON)
@given(byte_mutated(json_documents()))
def test_json_byte_mutants(data):
    check_offset_consistency(JSON, data, lambda d, **kw: json_describe(d, **kw))
    try:
        s = data.decode("utf-8")
    except UnicodeDecodeError as e:
        assert not JSON.accepts(data), json_describe(data, note=f"invalid UTF-8: {e}")
        return
    check_json(s)


def test_json_deep_nesting():
    deep = "[" * 300 + "]" * 300
    assert json_ok(deep) and JSON.accepts(deep)
    assert JSON.check("[" * 300 + "]" * 299).status == "prefix"
    r = JSON.check("[" * 300 + "]" * 301)
    assert r.status == "rejected" and r.offset == 600, r
