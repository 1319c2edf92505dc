"""Normalised records to EBNF rules.

Each distinct sub-schema (a conjunction of locations, plus the nesting depth when
the layout is indented) becomes one rule, so recursive schemas become recursive
rules and shared ``$defs`` are emitted once. A rule's body is the union of its
records; a record is the union of its admitted types, each spelled as JSON.

Objects keep the schema's property order: declared properties in order (each
present or absent as ``required`` says), then additional properties. A chain of
rules "members from declared property i on, n emitted so far" places the commas
and counts members for ``minProperties``/``maxProperties``. Arrays are a prefix
of positional elements followed by a counted repetition of ``items``.
"""

from __future__ import annotations

import itertools
import re
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from math import gcd
from typing import Any, Dict, List, Optional, Tuple

from .. import _core
from .._compile_scope import POLL_PERIOD_MASK, check_compile
from ..errors import GrammarError, SchemaError
from .check import conj_accepts
from .common import Inexpressible, Unsatisfiable
from .emit_arrays import ArrayEmitter
from .emit_objects import ObjectEmitter, not_in_set_regex
from .normalize import Normalizer
from .numbers import number_grammar
from .records import TRUE_SUB, Conj, Sub
from .spelling import (
    Layout,
    counted_char_expr,
    free_char_expr,
    make_layout,
    value_literal,
)
from .values import canonical, is_number, to_decimal

MAX_FREE_DEPTH = 16  # nesting of unconstrained values with a fixed indent

_NOT_NAME_CHAR = re.compile("[^0-9A-Za-z]")
_NULL_KEY = canonical(None)
_BOOLEANS = (('"true"', canonical(True)), ('"false"', canonical(False)))


@lru_cache(maxsize=4096)
def _rule_stem(hint: str) -> str:
    """The name part of a rule derived from ``hint`` (cached: hints repeat)."""
    clean = _NOT_NAME_CHAR.sub("_", hint[:24]).strip("_") or "v"
    if clean[0].isdigit():
        clean = "v" + clean
    return clean


def _lcm_decimals(values: List[Decimal]) -> Decimal:
    result = Fraction(values[0])
    for v in values[1:]:
        f = Fraction(v)
        num = result.numerator * f.numerator // gcd(result.numerator, f.numerator)
        result = Fraction(num, gcd(result.denominator, f.denominator))
    return Decimal(result.numerator) / Decimal(result.denominator)


_NUM_PREFIX = "xgnumpfx"


@lru_cache(maxsize=1024)
def _number_grammar_cached(key: Any) -> Any:
    number_kind, kwargs = key
    return number_grammar(integer=number_kind == "integer", rule_prefix=_NUM_PREFIX, **dict(kwargs))


class Emitter(ObjectEmitter, ArrayEmitter):
    """Collects EBNF rules for a normalised schema."""

    def __init__(
        self,
        norm: Normalizer,
        *,
        any_whitespace: bool,
        indent: Optional[int],
        separators: Optional[Tuple[str, str]],
        max_whitespace_cnt: int,
        strict_mode: bool,
        general_escapes: bool,
        any_order: bool = False,
    ) -> None:
        self.norm = norm
        self.any_whitespace = any_whitespace
        self.indent = indent
        self.separators = separators
        self.max_ws = max_whitespace_cnt
        self.strict_mode = strict_mode
        self.general_escapes = general_escapes
        self.any_order = any_order
        self.rules: Dict[str, str] = {}
        self._memo: Dict[Any, Optional[str]] = {}
        self._string_cache: Dict[Any, Tuple[str, int, int, bool]] = {}
        self._counter = itertools.count()
        self._layouts: Dict[int, Layout] = {}
        self._bodies: Dict[str, str] = {}  # rule body -> the first rule with it
        self._numbers: Dict[Any, Optional[str]] = {}
        self._strings: Dict[Any, Optional[str]] = {}
        # Which shared helper rules (base_rules) the emitted text names: a rule
        # nothing references still costs the grammar parser its text.
        self.uses_ws = False
        self.uses_any_value = False  # json_value and what it calls
        self.uses_free_value = False  # json_number and json_string, for free_value_d*
        self.uses_json_string = False
        self._building: Dict[str, bool] = {}  # value() rules in progress -> referenced yet
        self._free_base: Optional[int] = None
        # One JSON string character, every spelling (free text accepts all escapes).
        self.char_expr = free_char_expr()
        self.counted_char_expr = counted_char_expr()

    # --- helpers -------------------------------------------------------------------------

    def layout(self, depth: int) -> Layout:
        """The separators and whitespace at nesting ``depth``."""
        if self.indent is None:
            depth = 0
        if depth not in self._layouts:
            # Arrays and objects ask for a layout before spelling anything; scalars
            # never do, so a schema of scalars leaves `ws` out.
            self.uses_ws = self.any_whitespace
            self._layouts[depth] = make_layout(
                depth, self.any_whitespace, self.indent, self.separators
            )
        return self._layouts[depth]

    def fresh(self, hint: str) -> str:
        """A new rule name derived from ``hint``."""
        return f"{_rule_stem(hint)}_{next(self._counter)}"

    def add_rule(self, hint: str, body: str) -> str:
        """Add a rule (or reuse one with the same body) and return its name."""
        twin = self._bodies.get(body)
        if twin is not None:
            return twin
        name = self.fresh(hint)
        self.rules[name] = body
        self._bodies[body] = name
        return name

    def json_string_regex(
        self, pattern: str, search: bool, lo: int, hi: Optional[int]
    ) -> Tuple[str, int, int, bool]:
        """A regex as JSON string content (cached): ``(ebnf, min_len, max_len, applied)``."""
        key = (pattern, search, lo, hi)
        if key not in self._string_cache:
            self._string_cache[key] = _core.regex_to_json_string(
                pattern, search, self.general_escapes, lo, -1 if hi is None else hi
            )
        return self._string_cache[key]

    def sub_key(self, sub: Sub, depth: int) -> Any:
        """The memo key of a sub-schema at ``depth``."""
        if len(sub) == 1:  # the common case, without a generator
            locs: Tuple[Any, ...] = ((id(sub[0][0]), sub[0][1]),)
        else:
            locs = tuple((id(loc[0]), loc[1]) for loc in sub)
        return (locs, depth if self.indent is not None else 0)

    # --- values --------------------------------------------------------------------------

    def value(self, sub: Sub, depth: int, hint: str = "value") -> Optional[str]:
        """The rule name for values of ``sub`` at ``depth``, or None when there are none."""
        check_compile()  # per schema node: the compile's deadline and cancel token
        if sub == TRUE_SUB:
            if self.indent is None:
                self.uses_any_value = True
                return "json_value"
            return self.free_value_at(depth)
        key = self.sub_key(sub, depth)
        if key in self._memo:
            found = self._memo[key]
            if found in self._building:
                self._building[found] = True  # a recursive reference: the name must stay
            return found
        if self.indent is not None and depth > 64:
            raise SchemaError(
                "nesting deeper than 64 levels with a fixed indent (a recursive schema?)", "", ""
            )
        name = self.fresh(hint)
        self._memo[key] = name
        self.rules[name] = ""  # reserved: recursion refers to it
        self._building[name] = False
        alternatives = []
        for conj in self.norm.normalize_sub(sub):
            expr = self.conj(conj, depth, name)
            if expr is not None and expr not in alternatives:
                alternatives.append(expr)
        recursive = self._building.pop(name)
        if not alternatives:
            del self.rules[name]
            self._memo[key] = None
            return None
        body = " | ".join(alternatives)
        twin = self._bodies.get(body)
        if twin is not None:
            if recursive:
                self.rules[name] = twin  # referenced while being built: keep it as an alias
            else:
                del self.rules[name]  # named nowhere yet: the twin serves instead
            self._memo[key] = twin
            return twin
        self._bodies[body] = name
        self.rules[name] = body
        return name

    def free_value_at(self, depth: int) -> str:
        """Any JSON value laid out with the fixed indent, starting at ``depth``.

        Each depth needs its own rules; nesting is cut at MAX_FREE_DEPTH levels
        below the first free value (deeper values are refused, never mis-indented).
        """
        name = f"free_value_d{depth}"
        if name in self.rules:
            return name
        self.rules[name] = ""
        scalars = '"null" | "true" | "false" | json_number | json_string'
        self.uses_free_value = True
        if self._free_base is None:
            self._free_base = depth  # the first free value: nesting is counted from here
        if depth >= self._free_base + MAX_FREE_DEPTH:
            self.rules[name] = scalars
            return name
        lay = self.layout(depth)
        inner = self.free_value_at(depth + 1)
        member = f"json_string {lay.key_sep} {inner}"
        array = f"{lay.open_array} {inner} ({lay.item_sep} {inner})* {lay.close_array} | {lay.empty_array}"  # noqa: E501
        obj = f"{lay.open_object} {member} ({lay.item_sep} {member})* {lay.close_object} | {lay.empty_object}"  # noqa: E501
        self.rules[name] = f"{scalars} | {array} | {obj}"
        return name

    def conj(self, c: Conj, depth: int, hint: str) -> Optional[str]:
        """The EBNF for the values of one record, or None when there are none."""
        if c.consts is not None:
            kept = []
            seen = set()
            # Each candidate comes from c.consts: check the other keywords only
            # (membership would make large enums quadratic).
            others = c.copy()
            others.consts = None
            for position, v in enumerate(c.consts):
                if not position & POLL_PERIOD_MASK:  # the compile's deadline and cancel token
                    check_compile()
                k = canonical(v)
                if k in seen:
                    continue
                seen.add(k)
                if conj_accepts(self.norm, others, v):
                    kept.append(value_literal(v, self.layout, depth, self.add_rule))
            return "(" + " | ".join(kept) + ")" if kept else None
        excluded = {canonical(v): v for v in c.excluded} if c.excluded else {}
        parts = []
        if "null" in c.types and _NULL_KEY not in excluded:
            parts.append('"null"')
        if "boolean" in c.types:
            for lit, key in _BOOLEANS:
                if key not in excluded:
                    parts.append(lit)
        if c.number is not None:
            expr = self.number(c, [v for v in excluded.values() if is_number(v)], hint)
            if expr is not None:
                parts.append(expr)
        if "string" in c.types:
            expr = self.string(c, [v for v in excluded.values() if isinstance(v, str)])
            if expr is not None:
                parts.append(expr)
        structured = [v for v in excluded.values() if isinstance(v, (list, dict))]
        for kind, python_type, emit in (("array", list, self.array), ("object", dict, self.object)):
            if kind not in c.types:
                continue
            if structured:
                plain = self._without_exclusions(c)
                if any(
                    isinstance(v, python_type) and conj_accepts(self.norm, plain, v)
                    for v in structured
                ):
                    self.norm.relax(
                        "not",
                        c.origin.get("not", ""),
                        f"excluding a particular {kind} is not supported",
                    )
            expr = emit(c, depth, hint)
            if expr is not None:
                parts.append(expr)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else "(" + " | ".join(parts) + ")"

    @staticmethod
    def _without_exclusions(c: Conj) -> Conj:
        d = c.copy()
        d.excluded = []
        return d

    # --- scalars -------------------------------------------------------------------------

    def number(self, c: Conj, excluded: List[Any], hint: str) -> Optional[str]:
        """The EBNF for the numbers of record ``c`` minus ``excluded``."""
        pointer = (
            c.origin.get("minimum") or c.origin.get("maximum") or c.origin.get("multipleOf", "")
        )
        kwargs: Dict[str, Any] = {}
        if c.number == "integer" and self.norm.index.plain_integers:
            kwargs["plain_integer"] = True
        if c.not_integer:
            if c.number == "integer":
                return None
            kwargs["fraction_required"] = True
        if c.lower is not None:
            kwargs["exclusive_minimum" if c.lower[1] else "minimum"] = c.lower[0]
        if c.upper is not None:
            kwargs["exclusive_maximum" if c.upper[1] else "maximum"] = c.upper[0]
        if c.multiple_of:
            kwargs["multiple_of"] = _lcm_decimals(c.multiple_of)
        if c.not_multiple_of:
            kwargs["not_multiple_of"] = tuple(c.not_multiple_of)
        if excluded:
            plain = Conj(
                types=set(),
                number=c.number,
                lower=c.lower,
                upper=c.upper,
                multiple_of=c.multiple_of,
                not_multiple_of=c.not_multiple_of,
            )
            holes = sorted({to_decimal(v) for v in excluded if conj_accepts(self.norm, plain, v)})
            if holes:
                return self._number_with_holes(c, holes, hint)
        cache_key = (c.number, tuple(sorted(kwargs.items())))
        if cache_key in self._numbers:
            return self._numbers[cache_key]
        try:
            g = _number_grammar_cached(cache_key)
        except Unsatisfiable:
            self._numbers[cache_key] = None
            return None
        except Inexpressible as e:
            self.norm.relax(e.keyword, c.origin.get(e.keyword, pointer), e.message)
            # lenient: drop multipleOf, then the bounds
            relaxed = c.copy()
            if relaxed.not_multiple_of:
                relaxed.not_multiple_of = []
            elif relaxed.multiple_of:
                relaxed.multiple_of = []
            else:
                relaxed.lower = relaxed.upper = None
            return self.number(relaxed, [], hint)
        prefix = self.fresh("num")
        expr = g.expr.replace(_NUM_PREFIX, prefix)
        for name, body in g.rules:
            self.rules[name.replace(_NUM_PREFIX, prefix)] = body.replace(_NUM_PREFIX, prefix)
        # Always a named rule, however short: one rule shared by every property
        # that uses it (the core keeps a rule called from many places a call).
        expr = self.add_rule("number", expr)
        self._numbers[cache_key] = expr
        return expr

    def _number_with_holes(self, c: Conj, holes: List[Decimal], hint: str) -> Optional[str]:
        """Numbers of ``c`` except the values in ``holes``: the union of the open gaps."""
        bounds: List[Tuple[Optional[Tuple[Decimal, bool]], Optional[Tuple[Decimal, bool]]]] = []
        lower = c.lower
        for h in holes:
            bounds.append((lower, (h, True)))
            lower = (h, True)
        bounds.append((lower, c.upper))
        parts = []
        for lo, hi in bounds:
            piece = c.copy()
            piece.lower, piece.upper, piece.excluded = lo, hi, []
            if (
                lo is not None
                and hi is not None
                and (lo[0] > hi[0] or (lo[0] == hi[0] and (lo[1] or hi[1])))
            ):
                continue
            expr = self.number(piece, [], hint)
            if expr is not None:
                parts.append(expr)
        return "(" + " | ".join(parts) + ")" if parts else None

    def string(self, c: Conj, excluded: List[str]) -> Optional[str]:
        """The EBNF for the strings of record ``c`` minus ``excluded`` (cached)."""
        key = (
            c.min_length,
            c.max_length,
            tuple(c.patterns),
            tuple(c.formats),
            tuple(c.anti_strings),
            tuple(excluded),
        )
        if key not in self._strings:
            expr = self._string(c, excluded)
            if expr is not None and len(expr) > 40:
                expr = self.add_rule("string", expr)
            self._strings[key] = expr
        return self._strings[key]

    def _string_by_format_grammar(self, name: str, c: Conj, excluded: List[str]) -> Optional[str]:
        # A format given as rules (e.g. "regex", a context-free language) is
        # spliced in as they are: alone, or beside `minLength: 1` when the format
        # has a rule for its nonempty values; '&' needs regular operands.
        from .formats import format_grammar  # noqa: PLC0415

        grammar = format_grammar(name)
        assert grammar is not None
        others = len(c.formats) > 1 or c.patterns or excluded or c.anti_strings
        if others or c.max_length is not None:
            return None
        if c.min_length == 0:
            root = grammar.root
        elif c.min_length == 1 and grammar.nonempty_root is not None:
            root = grammar.nonempty_root
        else:
            return None
        for rule, body in grammar.rules.items():
            self.rules.setdefault(rule, body)
        return f'("\\"" {root} "\\"")'

    @staticmethod
    def _implied_by_patterns(name: str, c: Conj) -> bool:
        # Patterns that confine the value to a regular part of the format (its
        # `safe_subset`) make the format add nothing: exact to leave it out.
        from .formats import format_grammar  # noqa: PLC0415
        from .matching import patterns_within  # noqa: PLC0415

        grammar = format_grammar(name)
        if grammar is None or grammar.safe_subset is None or not c.patterns:
            return False
        return patterns_within([p for p, _ in c.patterns], grammar.safe_subset)

    def _string(self, c: Conj, excluded: List[str]) -> Optional[str]:
        lo, hi = c.min_length, c.max_length
        if hi is not None and lo > hi:
            return None
        regexes: List[Tuple[str, bool, str, str]] = []  # (regex, search, keyword, pointer)
        for p, ptr in c.patterns:
            regexes.append((p, True, "pattern", ptr))
        from .formats import format_grammar, format_regex  # noqa: PLC0415

        for f, ptr in c.formats:
            rx = format_regex(f)
            if rx is not None:
                regexes.append((rx, False, "format", ptr))
            elif format_grammar(f) is not None:
                by_grammar = self._string_by_format_grammar(f, c, excluded)
                if by_grammar is not None:
                    return by_grammar
                if self._implied_by_patterns(f, c):
                    continue
                # '&' needs regular operands: lenient drops the format, keeps the rest
                self.norm.relax(
                    "format", ptr, f"format {f!r} next to other string constraints is not supported"
                )
        live_excluded = [
            v
            for v in excluded
            if conj_accepts(
                self.norm,
                Conj(
                    types={"string"},
                    number=None,
                    min_length=lo,
                    max_length=hi,
                    patterns=c.patterns,
                    formats=c.formats,
                    anti_strings=c.anti_strings,
                ),
                v,
            )
        ]
        if live_excluded:
            regexes.append((not_in_set_regex(live_excluded), False, "not", c.origin.get("not", "")))
        if c.anti_strings and not regexes:
            regexes.append(("", True, "not", c.origin.get("not", "")))  # any string
        if not regexes:
            if lo == 0 and hi is None:
                self.uses_json_string = True
                return "json_string"
            lo, hi = self.checked_lengths(c, lo, hi)
            bound = f"{{{lo},{'' if hi is None else hi}}}"
            # The character expression is inlined in the repetition: a rule call per
            # character would make every multi-character token cross a rule end.
            return self.add_rule("string", f'"\\"" ({self.counted_char_expr}){bound} "\\""')
        # Several constraints on one string are one regular language: the
        # intersection (`&`, a product of DFAs) of their encodings. Each character
        # has the same spellings in every operand, so intersecting spellings
        # intersects the decoded strings. The length bounds go with the first.
        operands = []
        for i, (rx, search, keyword, ptr) in enumerate(regexes):
            bounds = (lo, hi) if i == 0 else (0, None)
            try:
                ebnf, _, max_len, applied = self.json_string_regex(rx, search, *bounds)
            except GrammarError as e:
                raise SchemaError(str(e), keyword, ptr) from None
            if max_len == -2:
                return None
            if not applied:
                self.norm.relax(
                    "maxLength" if hi is not None else "minLength",
                    ptr,
                    f"cannot combine length bounds with this {keyword}",
                )
            operands.append(f"({ebnf})")
        body = " & ".join(operands)
        for kind, value, ptr in c.anti_strings:  # `not pattern`, `not format`
            rx = value if kind == "pattern" else format_regex(value)
            if rx is None:
                continue
            try:
                ebnf, _, max_len, _ = self.json_string_regex(rx, kind == "pattern", 0, None)
            except GrammarError as e:
                raise SchemaError(str(e), "not", ptr) from None
            if max_len != -2:
                body = f"({body}) - ({ebnf})"
        return f'("\\"" ({body}) "\\"")'

    def checked_lengths(self, c: Conj, lo: int, hi: Optional[int]) -> Tuple[int, Optional[int]]:
        """String length bounds within the largest repetition bound written."""
        pointers = (c.origin.get("minLength", ""), c.origin.get("maxLength", ""))
        return self.norm.within_count_bound(lo, hi, ("minLength", "maxLength"), pointers)

    # --- arrays --------------------------------------------------------------------------


def base_rules(emitter: Emitter) -> Dict[str, str]:
    """The shared helper rules the emitted rules name, in a fixed order.

    Each ``uses_*`` flag is set where the helper's name is written; a helper nobody
    names would only cost the grammar parser its text.
    """
    any_value = emitter.uses_any_value
    if any_value:
        lay = emitter.layout(0)  # json_array and json_object below: may name `ws`
    rules: Dict[str, str] = {}
    if any_value or emitter.uses_free_value or emitter.uses_json_string:
        rules["json_string"] = f'"\\"" ({emitter.char_expr})* "\\""'
    if emitter.uses_ws:
        rules["ws"] = f"[ \\t\\n\\r]{{0,{emitter.max_ws}}}"
    if any_value:
        rules["json_value"] = (
            '"null" | "true" | "false" | json_number | json_string | json_array | json_object'
        )
    if any_value or emitter.uses_free_value:
        rules["json_number"] = '"-"? ("0" | [1-9] [0-9]*) ("." [0-9]+)? ([eE] [-+]? [0-9]+)?'
    if any_value:
        rules["json_array"] = (
            f"{lay.open_array} json_value ({lay.item_sep} json_value)* {lay.close_array} | {lay.empty_array}"  # noqa: E501
        )
        member = f"json_string {lay.key_sep} json_value"
        rules["json_object"] = (
            f"{lay.open_object} {member} ({lay.item_sep} {member})* {lay.close_object} | {lay.empty_object}"  # noqa: E501
        )
    return rules
