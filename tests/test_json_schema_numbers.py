"""Exactness of the JSON Schema number lowering against an independent Decimal oracle.

The oracle parses a text with a regular expression for RFC 8259 numbers and checks the
constraints with exact rational arithmetic. The grammar must never accept a text the
oracle rejects, and must accept every plain (exponent-free) text the oracle accepts.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xgram
from xgram.json_schema.common import Inexpressible, Unsatisfiable
from xgram.json_schema.numbers import NumberGrammar, number_grammar

NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?\Z")
PLAIN = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?\Z")
INT_EXP = re.compile(r"-?(0|[1-9][0-9]*)(\.0+)?[eE]\+?[0-9]+\Z")
BIG = 2**64

# (kwargs, which exponent texts must be accepted: None, "all" or "int")
CASES = [
    (dict(integer=True), "int"),
    (dict(integer=True, minimum=0), "int"),
    (dict(integer=True, exclusive_minimum=0), "int"),
    (dict(integer=True, minimum=0.5), "int"),
    (dict(integer=True, exclusive_maximum=0), "int"),
    (dict(integer=True, minimum=0, maximum=255), None),
    (dict(integer=True, minimum=-300, maximum=-17), None),
    (dict(integer=True, exclusive_minimum=-5.5, maximum=7), None),
    (dict(integer=True, minimum=-12, exclusive_maximum=12.000001), None),
    (dict(integer=True, minimum=7, maximum=7), None),
    (dict(integer=True, minimum=BIG - 1000, maximum=BIG), None),
    (dict(integer=True, minimum=-(2**63), maximum=BIG), None),
    (dict(integer=True, exclusive_minimum=BIG), None),
    (dict(integer=True, maximum=-BIG), None),
    (dict(integer=True, minimum=1e20), None),
    (dict(integer=False), "all"),
    (dict(integer=False, minimum=0), "all"),
    (dict(integer=False, exclusive_minimum=0), "all"),
    (dict(integer=False, maximum=0), "all"),
    (dict(integer=False, exclusive_maximum=0), "all"),
    (dict(integer=False, minimum=0, maximum=0), "all"),
    (dict(integer=False, minimum=0.5, exclusive_maximum=2.25), None),
    (dict(integer=False, exclusive_minimum=-1.5, maximum=3), None),
    (dict(integer=False, minimum=-2.75, maximum=-0.125), None),
    (dict(integer=False, exclusive_minimum=-0.125, exclusive_maximum=0.125), None),
    (dict(integer=False, minimum=0.1, maximum=0.3), None),
    (dict(integer=False, minimum=Decimal("1e-10"), exclusive_maximum=Decimal("0.001")), None),
    (dict(integer=False, minimum=Decimal("18446744073709551615.5"), maximum=BIG + 1), None),
    (dict(integer=False, exclusive_minimum=-BIG), None),
    (dict(integer=False, maximum=1e300), None),
    (dict(integer=False, minimum=3, maximum=10, exclusive_minimum=3, exclusive_maximum=11), None),
    (dict(integer=False, minimum=5.25, maximum=5.25), None),
    (dict(integer=False, multiple_of=1), None),
    (dict(integer=False, multiple_of=2), None),
    (dict(integer=False, multiple_of=3), None),
    (dict(integer=False, multiple_of=7), None),
    (dict(integer=False, multiple_of=10), None),
    (dict(integer=False, multiple_of=0.01), None),
    (dict(integer=False, multiple_of=0.5), None),
    (dict(integer=False, multiple_of=1.5), None),
    (dict(integer=False, multiple_of=0.0001), None),
    (dict(integer=False, multiple_of=0.0625), None),
    (dict(integer=False, multiple_of=0.01, minimum=0, maximum=1000), None),
    (dict(integer=False, multiple_of=7, minimum=-50, maximum=50), None),
    (dict(integer=False, multiple_of=1.5, exclusive_minimum=-10, maximum=100), None),
    (dict(integer=False, multiple_of=0.5, minimum=0), None),
    (dict(integer=False, multiple_of=3, exclusive_maximum=0), None),
    (dict(integer=False, multiple_of=0.0001, minimum=0.25, maximum=0.5), None),
    (dict(integer=False, multiple_of=0.3, minimum=-1.2, exclusive_maximum=2.1), None),
    (dict(integer=False, multiple_of=997, minimum=-5000, maximum=10**6), None),
    (dict(integer=False, multiple_of=12345, minimum=-(10**5), maximum=10**6), None),
    (dict(integer=False, multiple_of=Decimal("0.00012345"), minimum=1, maximum=1.05), None),
    (dict(integer=True, multiple_of=3, minimum=10, maximum=200), None),
    (dict(integer=True, multiple_of=0.5), "int"),
    (dict(integer=True, multiple_of=1.5, minimum=-20), None),
    (dict(integer=True, multiple_of=1000, minimum=0, maximum=10**9), None),
    (dict(integer=True, multiple_of=5000, minimum=-7), None),
    (dict(integer=True, multiple_of=10**6, maximum=BIG), None),
    (dict(integer=True, multiple_of=BIG, minimum=-(2**70), maximum=2**70), None),
]
IDS = [",".join(f"{k}={v}" for k, v in kw.items()) for kw, _ in CASES]


def exact(x) -> Fraction:
    return Fraction(Decimal(repr(x)) if isinstance(x, float) else Decimal(x))


def oracle(kw: dict):
    """A predicate on texts: a valid JSON number whose value meets every constraint.

    Decimal comparisons are exact whatever the context precision; the multiple test is
    done on the exact integer ratios.
    """

    def dec(x) -> Decimal:
        return Decimal(repr(x)) if isinstance(x, float) else Decimal(x)

    tests = []
    if kw.get("integer"):
        tests.append(lambda v: v.as_integer_ratio()[1] == 1)
    for key, op in (
        ("minimum", Decimal.__ge__),
        ("maximum", Decimal.__le__),
        ("exclusive_minimum", Decimal.__gt__),
        ("exclusive_maximum", Decimal.__lt__),
    ):
        if kw.get(key) is not None:
            tests.append(functools.partial(lambda bound, op, v: op(v, bound), dec(kw[key]), op))
    if kw.get("multiple_of") is not None:
        mn, md = dec(kw["multiple_of"]).as_integer_ratio()

        def multiple(v: Decimal) -> bool:
            n, d = v.as_integer_ratio()
            return (n * md) % (d * mn) == 0

        tests.append(multiple)

    def satisfies(text: str) -> bool:
        if not NUMBER.match(text):
            return False
        v = Decimal(text)
        return all(t(v) for t in tests)

    return satisfies


def source(g: NumberGrammar, root: str = "root") -> str:
    return f"{root} ::= {g.expr}\n" + "\n".join(f"{n} ::= {b}" for n, b in g.rules)


@functools.lru_cache(maxsize=None)
def grammar(i: int) -> NumberGrammar:
    return number_grammar(**CASES[i][0])


@functools.lru_cache(maxsize=None)
def compiled(i: int) -> xgram.Grammar:
    return xgram.Grammar.from_ebnf(source(grammar(i)))


@functools.lru_cache(maxsize=None)
def case_oracle(i: int):
    return oracle(CASES[i][0])


def check(i: int, texts) -> None:
    kw, exponents = CASES[i]
    g = compiled(i)
    satisfies = case_oracle(i)
    for text in texts:
        ok = satisfies(text)
        got = g.accepts(text)
        assert ok or not got, f"false accept of {text!r} under {kw}"
        must = (
            PLAIN.match(text) or exponents == "all" or (exponents == "int" and INT_EXP.match(text))
        )
        assert got or not (ok and must), f"false reject of {text!r} under {kw}"


def plain_text(v: Fraction) -> str:
    """The shortest plain decimal spelling of a terminating fraction, computed exactly."""
    twos = (v.denominator & -v.denominator).bit_length() - 1
    fives = v.denominator >> twos
    k = 0
    while fives > 1:
        assert fives % 5 == 0, v
        fives //= 5
        k += 1
    k = max(k, twos)
    n = abs(v.numerator * 10**k // v.denominator)
    digits = str(n).rjust(k + 1, "0")
    whole, frac = digits[: len(digits) - k], digits[len(digits) - k :].rstrip("0")
    return ("-" if v < 0 else "") + whole + ("." + frac if frac else "")


def spell(v: Fraction) -> list[str]:
    """Several spellings of a terminating decimal, valid and not."""
    plain = plain_text(v)
    sign, body = ("-", plain[1:]) if plain.startswith("-") else ("", plain)
    whole, _, frac = body.partition(".")
    out = [plain, f"{plain}{'0' if frac else '.0'}", f"{plain}{'00' if frac else '.000'}"]
    out += [
        f"{sign}0{body}",
        f"{sign}{body}.",
        f"+{body}",
        body if sign else f"-{body}",
        f"{sign}.{body}",
    ]
    n = whole + frac
    d = n.rstrip("0") or "0"
    e = len(n) - len(d) - len(frac)
    out += [f"{sign}{d.lstrip('0') or '0'}e{e}", f"{sign}{d.lstrip('0') or '0'}E{e:+d}"]
    if len(d.lstrip("0")) > 1:
        m = d.lstrip("0")
        out.append(f"{sign}{m[0]}.{m[1:]}e{e + len(m) - 1}")
    out += [plain + "e0", plain + "E+00", plain + "e-0", plain + "e1", plain + "e-1", plain + "e+2"]
    return out


def interesting(kw: dict) -> list[Fraction]:
    """Values near every bound, near zero and on a grid of multiples."""
    points = [Fraction(0)]
    for key in ("minimum", "maximum", "exclusive_minimum", "exclusive_maximum"):
        if kw.get(key) is not None and abs(exact(kw[key])) < 10**400:
            points.append(exact(kw[key]))
    steps = [Fraction(1), Fraction(1, 10), Fraction(1, 100), Fraction(1, 1000)]
    if kw.get("multiple_of") is not None:
        m = exact(kw["multiple_of"])
        steps += [m, m / 2, m / 10]
    values = set()
    for p in points:
        for s in steps:
            for k in range(-12, 13):
                values.add(p + k * s)
    return sorted(values)


@pytest.mark.parametrize("i", range(len(CASES)), ids=IDS)
def test_near_bounds(i):
    kw, _ = CASES[i]
    check(i, [t for v in interesting(kw) for t in spell(v)])


def texts_strategy():
    digits = st.text("0123456789", min_size=1, max_size=6)
    lead = st.builds(str.__add__, st.sampled_from("123456789"), st.text("0123456789", max_size=5))
    whole = st.one_of(st.just("0"), lead, digits)
    frac = st.one_of(
        st.just(""), digits.map(lambda d: "." + d), st.sampled_from([".", ".0", ".00", ".50"])
    )
    exp = st.one_of(
        st.just(""),
        st.builds(
            lambda e, s, d: e + s + d,
            st.sampled_from("eE"),
            st.sampled_from(["", "+", "-"]),
            st.text("0123456789", min_size=1, max_size=2),
        ),
    )
    sign = st.sampled_from(["", "-", "+"])
    number = st.builds(lambda s, w, f, e: s + w + f + e, sign, whole, frac, exp)
    junk = st.text("0123456789.-+eE", max_size=8)
    return st.one_of(number, number, number, junk)


# Hypothesis draws one batch of texts per example and every case checks the whole batch,
# which keeps the per-example overhead out of the case count.
HYPOTHESIS = settings(
    max_examples=30, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck)
)


@HYPOTHESIS
@given(texts=st.lists(texts_strategy(), min_size=40, max_size=40))
def test_random_texts(texts):
    for i in range(len(CASES)):
        check(i, texts)


@settings(HYPOTHESIS, max_examples=12)
@given(
    offsets=st.lists(
        st.tuples(
            st.integers(-(10**6), 10**6),
            st.sampled_from([1, 2, 4, 10, 100, 10**4, 10**9]),
            st.sampled_from([1, 10, 1000, 10**6, 10**12, BIG]),
        ),
        min_size=4,
        max_size=4,
    )
)
def test_random_values_near_bounds(offsets):
    """Values a random offset away from a bound, for bounds too wide to walk."""
    for i, (kw, _) in enumerate(CASES):
        anchors = [Fraction(0)] + [
            exact(v)
            for k, v in kw.items()
            if k not in ("integer", "multiple_of") and abs(exact(v)) < 10**400
        ]
        check(
            i,
            [
                t
                for a in anchors
                for n, d, s in offsets
                for t in spell(a + Fraction(n * s, d * 10**6))
            ],
        )


def test_unsatisfiable():
    cases = [
        (dict(integer=False, minimum=5, maximum=3), "minimum"),
        (dict(integer=False, minimum=3, exclusive_maximum=3), "minimum"),
        (dict(integer=False, exclusive_minimum=3, maximum=3), "exclusiveMinimum"),
        (dict(integer=True, minimum=0.2, maximum=0.8), "minimum"),
        (dict(integer=True, exclusive_minimum=1, exclusive_maximum=2), "exclusiveMinimum"),
        (
            dict(
                integer=True,
                minimum=Decimal(BIG) + Decimal("0.5"),
                maximum=Decimal(BIG) + Decimal("0.75"),
            ),
            "minimum",
        ),
        (dict(integer=True, minimum=1, maximum=6, multiple_of=7), "multipleOf"),
        (
            dict(integer=False, exclusive_minimum=0, exclusive_maximum=0.01, multiple_of=0.01),
            "multipleOf",
        ),
        (dict(integer=True, minimum=1, maximum=2, multiple_of=2.5), "multipleOf"),
        (dict(integer=False, minimum=float("inf")), "minimum"),
        (dict(integer=False, exclusive_maximum=float("-inf")), "exclusiveMaximum"),
    ]
    for kw, keyword in cases:
        with pytest.raises(Unsatisfiable) as info:
            number_grammar(**kw)
        assert info.value.keyword == keyword, kw


def test_inexpressible():
    for kw in [
        dict(integer=False, multiple_of=12345),
        dict(integer=True, multiple_of=2001, minimum=0),
        dict(integer=False, multiple_of=12345, minimum=0, maximum=10**9),
        dict(integer=False, multiple_of=Decimal("0.00000997")),
        dict(integer=False, multiple_of=Decimal("1e-500")),
    ]:
        with pytest.raises(Inexpressible) as info:
            number_grammar(**kw)
        assert info.value.keyword == "multipleOf"
    with pytest.raises(Inexpressible) as info:
        number_grammar(integer=False, exclusive_maximum=Decimal("1e500"))
    assert info.value.keyword == "exclusiveMaximum"


def test_bad_arguments():
    for kw in [
        dict(minimum=True),
        dict(maximum="3"),
        dict(minimum=float("nan")),
        dict(multiple_of=0),
        dict(multiple_of=-2),
    ]:
        with pytest.raises((TypeError, ValueError)):
            number_grammar(integer=False, **kw)


def test_infinite_bounds_are_no_constraint():
    g = number_grammar(integer=False, minimum=float("-inf"), maximum=float("inf"))
    assert g == number_grammar(integer=False)


def test_fragment_embeds_in_a_sequence():
    g = number_grammar(
        integer=False, minimum=-1.5, maximum=1000, multiple_of=0.5, rule_prefix="price"
    )
    assert all(name.startswith("price") for name, _ in g.rules)
    outer = xgram.Grammar.from_ebnf(source(g, "x") + '\nroot ::= "[" x ("," x)* "]"')
    assert outer.accepts("[1,-1.5,999.50,0.0,-0]")
    assert not outer.accepts("[1,1.25]")
    assert not outer.accepts("[]")


def test_empty_string_never_matches():
    for i in range(len(CASES)):
        assert not compiled(i).accepts("")


def test_grammars_stay_small():
    assert len(number_grammar(integer=False, minimum=0.5, exclusive_maximum=2.25).rules) <= 3
    assert len(number_grammar(integer=True, multiple_of=10**6).rules) <= 5
    sizes = [len(source(grammar(i))) for i in range(len(CASES))]
    assert max(sizes) < 40_000


def test_draft4_integers_have_no_fraction_or_exponent():
    # Draft 4 defines an integer as a number written without them; draft 6 on
    # counts 1.0 as an integer.
    draft4 = xgram.Grammar.from_json_schema(
        {"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"}
    )
    assert draft4.accepts("12") and draft4.accepts("-0")
    assert not draft4.accepts("12.0") and not draft4.accepts("1e2")
    modern = xgram.Grammar.from_json_schema({"type": "integer"})
    assert modern.accepts("12.0") and modern.accepts("1e2")
