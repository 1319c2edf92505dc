"""Lower JSON Schema's numeric keywords to an exact EBNF fragment.

The fragment must never accept a number text whose value breaks the schema, and it
should accept every plain spelling of every value that keeps it. Regular expressions for
numeric ranges are easy to get subtly wrong (leading zeros, ``-0``, ``1.50`` against a
bound of ``1.5``, two bounds at once, ``multipleOf`` on top), so nothing here is written
as a regular expression. Each keyword is instead an automaton over the characters of a
number (:mod:`xgram.json_schema.number_ranges`) that is simple enough to be obviously
right: "value >= c" compares the integer part by length and then digit by digit, and
the fraction digit by digit with zero padding; "value <= c" is the complement of
"value > c"; a negative text is a magnitude compared with ``-c``; ``multipleOf p/10**s``
tracks the remainder mod ``p`` of the digits, counting the first ``s`` fraction digits
and forcing later ones to be zeros. The automata are intersected with the RFC 8259
syntax automaton, minimised, and printed as EBNF. Every spelling of an accepted value
is accepted: ``-0``, ``1.0``, ``10.00`` for integers, trailing fraction zeros always.

What is exact, and what is not:

* Bounds of any size and precision (big integers, ``0.1`` read as exactly 0.1),
  inclusive or exclusive, several at once (the tightest wins), for numbers and integers.
* Exponent notation is accepted only where its value is decided without arithmetic on
  the exponent: with no ``multipleOf`` and with bounds (if any) at zero, where the
  mantissa's sign decides. Integers then take only exponents without a '-' sign and a
  mantissa without non-zero fraction digits (``1e2``, ``1.0E+3``; not ``1.5e1``).
  Elsewhere exponent forms are rejected although some denote valid values: the only
  values this leaves out are spellings, never numbers.
* ``multipleOf = p/10**s`` is exact, alone or with any bounds, while the remainder
  automaton is small (``p = q * 10**t`` with ``q`` at most :data:`MAX_MODULUS`) and
  the minimised product with the range has at most :data:`MAX_STATES` states.
  Otherwise a finite range with at most :data:`MAX_ENUMERATED` multiples is spelled out
  as a trie of their digits, and anything else raises :class:`Inexpressible`. For
  integers ``p/10**s`` is first reduced to the integer modulus ``p / gcd(p, 10**s)``
  (``multipleOf: 0.5`` is no constraint on an integer). Many moduli minimise to a few
  states (``10**k``: the last ``k`` digits are zeros), so round moduli cost little.
* Bounds or ``multipleOf`` with more than :data:`MAX_BOUND_DIGITS` digits written out
  in full (``1e500``, ``1e-500``) raise :class:`Inexpressible`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple, Optional

from . import number_ranges as nr
from .common import Inexpressible, Unsatisfiable

MAX_MODULUS = 2000
"""Largest ``p`` (of ``multipleOf = p/10**s``) given a remainder automaton."""
MAX_REMAINDER_STATES = 5000
"""Largest remainder automaton built, ``p * (s + 1)`` states."""
MAX_STATES = 1200
"""Largest minimised automaton (one helper rule per state at most) with ``multipleOf``."""
MAX_ENUMERATED = 2000
"""Most multiples spelled out when no remainder automaton fits."""
MAX_BOUND_DIGITS = 400
"""Most significant digits in a bound or ``multipleOf`` (every double fits)."""


@dataclass(frozen=True)
class NumberGrammar:
    """An EBNF fragment for the number texts that satisfy some numeric keywords.

    Attributes
    ----------
    expr : str
        An EBNF expression, parenthesised so that it can be embedded in a sequence.
    rules : tuple of (str, str)
        Helper rules ``(name, body)`` that ``expr`` refers to; their names start with the
        ``rule_prefix`` given to :func:`number_grammar`.

    """

    expr: str
    rules: tuple[tuple[str, str], ...]


class _Bound(NamedTuple):
    value: Decimal
    strict: bool
    keyword: str


def _to_decimal(x, keyword: str) -> Decimal:
    if isinstance(x, bool) or not isinstance(x, (int, float, Decimal)):
        raise TypeError(f"{keyword} must be a number, not {type(x).__name__}")
    d = Decimal(repr(x)) if isinstance(x, float) else Decimal(x)
    if d.is_nan():
        raise ValueError(f"{keyword} must not be NaN")
    return d


def _plain_digits(d: Decimal) -> int:
    """How many digits ``d`` has when written without exponent (computed, not written)."""
    return max(d.adjusted() + 1, 1) + max(-d.as_tuple().exponent, 0)


def _check_size(d: Decimal, keyword: str) -> None:
    if _plain_digits(d) > MAX_BOUND_DIGITS:
        raise Inexpressible(
            keyword, f"{keyword} {d} has over {MAX_BOUND_DIGITS} digits written out in full"
        )


def _tightest(bounds: list[_Bound], lower: bool) -> Optional[_Bound]:
    """The binding bound; at equal values the exclusive one."""
    if not bounds:
        return None
    sign = 1 if lower else -1
    return max(bounds, key=lambda b: (sign * Fraction(b.value), b.strict))


def _show(b: _Bound) -> str:
    return f"{b.keyword} {b.value}"


def _integer_bounds(lower, upper):
    """Integer mode: the bounds rounded inward to inclusive integers, 1/-1 as 0 exclusive."""
    a = b = None
    if lower is not None:
        f = Fraction(lower.value)
        a = math.floor(f) + 1 if lower.strict else math.ceil(f)
    if upper is not None:
        f = Fraction(upper.value)
        b = math.ceil(f) - 1 if upper.strict else math.floor(f)
    if a is not None and b is not None and a > b:
        raise Unsatisfiable(
            lower.keyword, f"no integer satisfies {_show(lower)} and {_show(upper)}"
        )

    def bound(v, old, one):
        if v is None:
            return None
        return (
            _Bound(Decimal(0), True, old.keyword)
            if v == one
            else _Bound(Decimal(v), False, old.keyword)
        )

    return bound(a, lower, 1), bound(b, upper, -1), a, b


def _modulus(multiple_of, integer: bool) -> Optional[tuple[int, int]]:
    """``m = p / 10**s`` as ``(p, s)``; integers take an integer modulus, 1 meaning none."""
    if multiple_of is None:
        return None
    m = _to_decimal(multiple_of, "multipleOf")
    if not m.is_finite() or m <= 0:
        raise ValueError(f"multipleOf must be a positive finite number, not {multiple_of!r}")
    _check_size(m, "multipleOf")
    _, digits, exp = m.normalize().as_tuple()
    p = int("".join(map(str, digits))) * 10 ** max(exp, 0)
    s = max(-exp, 0)
    if integer:
        p, s = p // math.gcd(p, 10**s), 0
    return None if (p, s) == (1, 0) and integer else (p, s)


def _multiple_range(lo, lo_strict, hi, hi_strict, p: int, s: int):
    """The range ``kmin..kmax`` of ``k`` with ``k * p / 10**s`` within the bounds (None: open)."""
    m = Fraction(p, 10**s)
    kmin = kmax = None
    if lo is not None:
        q = Fraction(lo) / m
        kmin = math.floor(q) + 1 if lo_strict else math.ceil(q)
    if hi is not None:
        q = Fraction(hi) / m
        kmax = math.ceil(q) - 1 if hi_strict else math.floor(q)
    return kmin, kmax


def number_grammar(
    *,
    integer: bool,
    minimum=None,
    maximum=None,
    exclusive_minimum=None,
    exclusive_maximum=None,
    multiple_of=None,
    not_multiple_of=(),
    fraction_required: bool = False,
    plain_integer: bool = False,
    rule_prefix: str = "num",
) -> NumberGrammar:
    """Build the EBNF fragment for JSON numbers that satisfy numeric keywords.

    Parameters
    ----------
    integer : bool
        JSON Schema ``"type": "integer"``: values with a zero fractional part, in any
        spelling (``1``, ``1.0``, ``-0``).
    minimum, maximum, exclusive_minimum, exclusive_maximum : int, float or Decimal, optional
        The bounds (draft 6+ semantics: exclusive bounds are numbers). Floats are read
        through ``repr``, so ``0.1`` is exactly one tenth. Infinite bounds are allowed.
    multiple_of : int, float or Decimal, optional
        A positive number the value must be an integer multiple of.
    not_multiple_of : sequence of int, float or Decimal, optional
        Positive numbers the value must not be a multiple of (``not`` of
        ``multipleOf``): the complement of the remainder automaton. Spellings with an
        exponent are then not offered, as with ``multiple_of``.
    fraction_required : bool, optional
        Only numbers that are not integers (``not {"type": "integer"}``): a
        fraction with a non-zero digit, spelled without an exponent.
    plain_integer : bool, optional
        With ``integer``: only spellings without a fraction or an exponent, as draft 4
        defines an integer (``1.0`` is not one there).
    rule_prefix : str, optional
        Prefix for the names of the helper rules.

    Returns
    -------
    NumberGrammar
        The expression and its helper rules.

    Raises
    ------
    Unsatisfiable
        No number satisfies the keywords together.
    Inexpressible
        ``multipleOf`` (or a bound of more than :data:`MAX_BOUND_DIGITS` digits) cannot be
        expressed exactly within the size limits; see the module docstring.
    TypeError, ValueError
        A keyword value is not a number, is NaN, or ``multipleOf`` is not positive.

    """
    lows: list[_Bound] = []
    highs: list[_Bound] = []
    for value, strict, keyword, into in (
        (minimum, False, "minimum", lows),
        (exclusive_minimum, True, "exclusiveMinimum", lows),
        (maximum, False, "maximum", highs),
        (exclusive_maximum, True, "exclusiveMaximum", highs),
    ):
        if value is None:
            continue
        d = _to_decimal(value, keyword)
        if d.is_infinite():
            if (d > 0) == (into is lows):
                raise Unsatisfiable(keyword, f"{keyword} {value} excludes every number")
            continue
        _check_size(d, keyword)
        into.append(_Bound(d, strict, keyword))
    lower, upper = _tightest(lows, True), _tightest(highs, False)
    if lower is not None and upper is not None:
        lo, hi = Fraction(lower.value), Fraction(upper.value)
        if lo > hi or (lo == hi and (lower.strict or upper.strict)):
            raise Unsatisfiable(lower.keyword, f"{_show(lower)} is above {_show(upper)}")
    mod = _modulus(multiple_of, integer)
    if integer:
        lower, upper, a, b = _integer_bounds(lower, upper)
        range_ends = (a, False, b, False)
    else:
        range_ends = (
            lower.value if lower else None,
            bool(lower and lower.strict),
            upper.value if upper else None,
            bool(upper and upper.strict),
        )
    kmin = kmax = None
    if mod is not None:
        kmin, kmax = _multiple_range(*range_ends, *mod)
        if kmin is not None and kmax is not None and kmin > kmax:
            raise Unsatisfiable(
                "multipleOf", f"no multiple of {multiple_of} lies within the bounds"
            )
    exponent = (
        mod is None
        and not not_multiple_of
        and not fraction_required
        and not (integer and plain_integer)
        and all(b is None or b.value == 0 for b in (lower, upper))
    )
    dfa = nr.syntax(integer=integer, exponent=exponent, fraction=not (integer and plain_integer))
    if fraction_required:
        dfa = nr.intersect(dfa, nr.complement(nr.syntax(integer=True, exponent=False)))
    if lower is not None:
        dfa = nr.intersect(dfa, nr.value_ge(lower.value, lower.strict))
    if upper is not None:
        dfa = nr.intersect(dfa, nr.value_le(upper.value, upper.strict))
    dfa = nr.minimize(dfa)
    if mod is not None:
        dfa = _with_multiple(dfa, mod, kmin, kmax, multiple_of)
    for m in not_multiple_of:
        dfa = _without_multiples(dfa, m, integer)
    if dfa.is_empty() and not_multiple_of:
        raise Unsatisfiable("not", "every number left is a multiple of an excluded multipleOf")
    if dfa.is_empty():  # pragma: no cover - the arithmetic checks above rule this out
        raise Unsatisfiable("multipleOf" if mod else "minimum", "no number satisfies the keywords")
    expr, rules = nr.to_ebnf(dfa, rule_prefix)
    return NumberGrammar(expr, tuple(rules))


def _without_multiples(dfa: nr.Dfa, m, integer: bool) -> nr.Dfa:
    """Intersect with the complement of ``multipleOf m``'s remainder automaton."""
    mod = _modulus(m, integer)
    if mod is None:  # every integer is a multiple of m
        raise Unsatisfiable("not", f"every integer is a multiple of {m}")
    p, s = mod
    t = len(str(p)) - len(str(p).rstrip("0"))
    q = p // 10**t
    if q > MAX_MODULUS or q * (t + 1) * (s + 1) > MAX_REMAINDER_STATES:
        raise Inexpressible(
            "not", f"'not multipleOf {m}' cannot be expressed exactly: too many remainders"
        )
    try:
        remainder = nr.minimize(nr.multiple_of(q, t, s, 4 * MAX_REMAINDER_STATES))
        product = nr.minimize(
            nr.intersect(dfa, nr.complement(remainder), 10 * MAX_REMAINDER_STATES)
        )
    except nr.TooBig:
        raise Inexpressible("not", f"'not multipleOf {m}' needs too many grammar states") from None
    if len(product.trans) > MAX_STATES:
        raise Inexpressible("not", f"'not multipleOf {m}' needs too many grammar states")
    return product


def _with_multiple(dfa: nr.Dfa, mod: tuple[int, int], kmin, kmax, multiple_of) -> nr.Dfa:
    """Intersect with ``multipleOf``: the remainder automaton, else the enumerated values."""
    p, s = mod
    t = len(str(p)) - len(str(p).rstrip("0"))
    q = p // 10**t
    why = f"its modulus {q} is above {MAX_MODULUS}"
    if q <= MAX_MODULUS and q * (t + 1) * (s + 1) <= MAX_REMAINDER_STATES:
        why = f"it needs over {MAX_STATES} grammar states with these bounds"
        try:
            remainder = nr.minimize(nr.multiple_of(q, t, s, 4 * MAX_REMAINDER_STATES))
            product = nr.minimize(nr.intersect(dfa, remainder, 10 * MAX_REMAINDER_STATES))
            if len(product.trans) <= MAX_STATES:
                return product
        except nr.TooBig:
            pass
    elif q <= MAX_MODULUS:
        why = f"it has {s} decimals"
    if kmin is None or kmax is None or kmax - kmin >= MAX_ENUMERATED:
        raise Inexpressible(
            "multipleOf",
            f"multipleOf {multiple_of} cannot be expressed exactly: {why}, and the bounds "
            f"allow more than {MAX_ENUMERATED} multiples to list one by one",
        )
    values = [Decimal(f"{k * p}E-{s}") for k in range(kmin, kmax + 1)]
    return nr.minimize(nr.intersect(dfa, nr.value_set(values)))
