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
from functools import lru_cache
import json
from decimal import Decimal
from fractions import Fraction
from math import gcd
from typing import Any, Callable, Dict, List, Optional, Tuple

from .. import _core
from ..errors import GrammarError, SchemaError
from .check import conj_accepts, sub_accepts
from .common import Inexpressible, Unsatisfiable
from .normalize import TRUE_SUB, Conj, Normalizer, Sub, _conj_sub
from .numbers import number_grammar
from .spelling import Layout, ebnf_literal, make_layout, string_literal, value_literal
from .values import canonical, is_number, to_decimal

MAX_COUNT_STATES = 64
MAX_UNIQUE_DOMAIN = 5
MAX_ANY_ORDER_REQUIRED = 8
MAX_COUNT_BOUND = 1 << 20  # the largest repetition bound the grammar takes
MAX_FREE_DEPTH = 16  # nesting of unconstrained values with a fixed indent


def _regex_escape(text: str) -> str:
    out = []
    for ch in text:
        if ch in "\\^$.|?*+()[]{}/-":
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ch in "\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def not_in_set_regex(words: List[str]) -> str:
    """A regex (whole-match) for every string except the given ones."""
    trie: Dict[str, Any] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def walk(node: Dict[str, Any]) -> str:
        alts = []
        if "" not in node:
            alts.append("")
        chars = [c for c in node if c]
        if chars:
            alts.append("[^" + "".join(_regex_escape(c) for c in chars) + "][\\s\\S]*")
        else:
            alts.append("[\\s\\S]+")
        for c in chars:
            alts.append(_regex_escape(c) + "(?:" + walk(node[c]) + ")")
        return "|".join(alts)

    return walk(trie)


def _lcm_decimals(values: List[Decimal]) -> Decimal:
    result = Fraction(values[0])
    for v in values[1:]:
        f = Fraction(v)
        num = result.numerator * f.numerator // gcd(result.numerator, f.numerator)
        result = Fraction(num, gcd(result.denominator, f.denominator))
    return Decimal(result.numerator) / Decimal(result.denominator)


_SPECIAL_KEY_CHARS = set('"\\/') | {chr(i) for i in range(0x20)}


def _class_char(ch: str) -> str:
    if ch in "]\\^-[":
        return "\\" + ch
    if ord(ch) < 0x20 or ord(ch) == 0x7F:
        return f"\\x{ord(ch):02X}"
    return ch


@lru_cache(maxsize=1)
def _counted_char_expr() -> str:
    """One character of a JSON string in every spelling, as an EBNF expression.

    A surrogate pair written as two ``\\u`` escapes is one character here, which
    ``minLength``/``maxLength`` need; the expression is large, so only
    length-bounded strings use it.
    """
    return _core.regex_to_json_string("[\\s\\S]", False, True, 0, -1)[0]


def _any_char_expr() -> str:
    """One unit of free JSON string text: ECMA-404's character or escape (small automaton)."""
    return FREE_CHAR


FREE_CHAR = '[^"\\\\\\x00-\\x1F] | "\\\\" (["\\\\/bfnrt] | "u" [0-9a-fA-F]{4})'


@lru_cache(maxsize=1024)
def key_not_in_set_ebnf(words: Tuple[str, ...]) -> Optional[str]:
    """EBNF for a JSON string literal whose value is none of ``words``.

    The trie of the words is walked: at each node the text may end (when no word
    ends there), take a character no word continues with and then anything, or
    follow a word's next character. Characters that have escape spellings are
    left to the general regex path (None is returned).
    """
    if any(ch in _SPECIAL_KEY_CHARS for w in words for ch in w):
        return None
    any_char = _any_char_expr()
    trie: Dict[str, Any] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def walk(node: Dict[str, Any]) -> str:
        alts = []
        if "" not in node:
            alts.append('""')
        chars = sorted(c for c in node if c)
        if chars:
            cls = "".join(_class_char(c) for c in chars)
            alts.append(f'([^\\x00-\\x1F"\\\\{cls}] | json_required_escape) ({any_char})*')
        else:
            alts.append(f"({any_char})+")
        for c in chars:
            alts.append(f"{ebnf_literal(c)} {walk(node[c])}")
        return "(" + " | ".join(alts) + ")"

    return '"\\"" ' + walk(trie) + ' "\\""'


_NUM_PREFIX = "xgnumpfx"


@lru_cache(maxsize=1024)
def _number_grammar_cached(key: Any) -> Any:
    number_kind, kwargs = key
    return number_grammar(integer=number_kind == "integer", rule_prefix=_NUM_PREFIX, **dict(kwargs))


class Emitter:
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
        self.uses_any_value = False
        self._free_base: Optional[int] = None
        # One JSON string character, every spelling (free text accepts all escapes).
        self.char_expr = _any_char_expr()
        self.counted_char_expr = _counted_char_expr()

    # --- helpers -------------------------------------------------------------------------

    def layout(self, depth: int) -> Layout:
        if self.indent is None:
            depth = 0
        if depth not in self._layouts:
            self._layouts[depth] = make_layout(depth, self.any_whitespace, self.indent, self.separators)
        return self._layouts[depth]

    def fresh(self, hint: str) -> str:
        clean = "".join(ch if ch.isascii() and ch.isalnum() else "_" for ch in hint)[:24].strip("_") or "v"
        if clean[0].isdigit():
            clean = "v" + clean
        return f"{clean}_{next(self._counter)}"

    def add_rule(self, hint: str, body: str) -> str:
        twin = self._bodies.get(body)
        if twin is not None:
            return twin
        name = self.fresh(hint)
        self.rules[name] = body
        self._bodies[body] = name
        return name

    def json_string_regex(self, pattern: str, search: bool, lo: int, hi: Optional[int]) -> Tuple[str, int, int, bool]:
        key = (pattern, search, lo, hi)
        if key not in self._string_cache:
            self._string_cache[key] = _core.regex_to_json_string(
                pattern, search, self.general_escapes, lo, -1 if hi is None else hi
            )
        return self._string_cache[key]

    def sub_key(self, sub: Sub, depth: int) -> Any:
        return (tuple((id(loc[0]), loc[1]) for loc in sub), depth if self.indent is not None else 0)

    # --- values --------------------------------------------------------------------------

    def value(self, sub: Sub, depth: int, hint: str = "value") -> Optional[str]:
        """The rule name for values of ``sub`` at ``depth``, or None when there are none."""
        if sub == TRUE_SUB:
            if self.indent is None:
                self.uses_any_value = True
                return "json_value"
            return self.free_value_at(depth)
        key = self.sub_key(sub, depth)
        if key in self._memo:
            return self._memo[key]
        if self.indent is not None and depth > 64:
            raise SchemaError("nesting deeper than 64 levels with a fixed indent (a recursive schema?)", "", "")
        name = self.fresh(hint)
        self._memo[key] = name
        self.rules[name] = ""  # reserved: recursion refers to it
        alternatives = []
        for conj in self.norm.normalize_sub(sub):
            expr = self.conj(conj, depth, name)
            if expr is not None and expr not in alternatives:
                alternatives.append(expr)
        if not alternatives:
            del self.rules[name]
            self._memo[key] = None
            return None
        body = " | ".join(alternatives)
        twin = self._bodies.get(body)
        if twin is not None:
            self.rules[name] = twin  # referenced while being built; an alias is inlined later
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
        self.uses_any_value = True
        if depth >= self._free_floor(depth) + MAX_FREE_DEPTH:
            self.rules[name] = scalars
            return name
        lay = self.layout(depth)
        inner = self.free_value_at(depth + 1)
        member = f"json_string {lay.key_sep} {inner}"
        array = f"{lay.open_array} {inner} ({lay.item_sep} {inner})* {lay.close_array} | {lay.empty_array}"
        obj = f"{lay.open_object} {member} ({lay.item_sep} {member})* {lay.close_object} | {lay.empty_object}"
        self.rules[name] = f"{scalars} | {array} | {obj}"
        return name

    def _free_floor(self, depth: int) -> int:
        if self._free_base is None:
            self._free_base = depth
        return self._free_base

    def conj(self, c: Conj, depth: int, hint: str) -> Optional[str]:
        if c.consts is not None:
            kept = []
            seen = set()
            for v in c.consts:
                k = canonical(v)
                if k in seen:
                    continue
                seen.add(k)
                if conj_accepts(self.norm, c, v):
                    kept.append(value_literal(v, self.layout, depth))
            return "(" + " | ".join(kept) + ")" if kept else None
        excluded = {canonical(v): v for v in c.excluded}
        parts = []
        if "null" in c.types and canonical(None) not in excluded:
            parts.append('"null"')
        if "boolean" in c.types:
            for lit, v in (('"true"', True), ('"false"', False)):
                if canonical(v) not in excluded:
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
        if "array" in c.types:
            if any(isinstance(v, list) and conj_accepts(self.norm, self._without_exclusions(c), v) for v in structured):
                self.norm.relax("not", c.origin.get("not", ""), "excluding a particular array is not supported")
            expr = self.array(c, depth, hint)
            if expr is not None:
                parts.append(expr)
        if "object" in c.types:
            if any(isinstance(v, dict) and conj_accepts(self.norm, self._without_exclusions(c), v) for v in structured):
                self.norm.relax("not", c.origin.get("not", ""), "excluding a particular object is not supported")
            expr = self.object(c, depth, hint)
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
        pointer = c.origin.get("minimum") or c.origin.get("maximum") or c.origin.get("multipleOf", "")
        if c.not_integer:
            self.norm.relax("type", pointer, "'not integer' (a number with a fraction) is not supported")
            c = c.copy()
            c.not_integer = False
        kwargs: Dict[str, Any] = {}
        if c.lower is not None:
            kwargs["exclusive_minimum" if c.lower[1] else "minimum"] = c.lower[0]
        if c.upper is not None:
            kwargs["exclusive_maximum" if c.upper[1] else "maximum"] = c.upper[0]
        if c.multiple_of:
            kwargs["multiple_of"] = _lcm_decimals(c.multiple_of)
        plain = Conj(types=set(), number=c.number, lower=c.lower, upper=c.upper, multiple_of=c.multiple_of)
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
            if relaxed.multiple_of:
                relaxed.multiple_of = []
            else:
                relaxed.lower = relaxed.upper = None
            return self.number(relaxed, [], hint)
        prefix = self.fresh("num")
        expr = g.expr.replace(_NUM_PREFIX, prefix)
        for name, body in g.rules:
            self.rules[name.replace(_NUM_PREFIX, prefix)] = body.replace(_NUM_PREFIX, prefix)
        expr = expr if len(expr) < 40 else self.add_rule("number", expr)
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
            if lo is not None and hi is not None and (lo[0] > hi[0] or (lo[0] == hi[0] and (lo[1] or hi[1]))):
                continue
            expr = self.number(piece, [], hint)
            if expr is not None:
                parts.append(expr)
        return "(" + " | ".join(parts) + ")" if parts else None

    def string(self, c: Conj, excluded: List[str]) -> Optional[str]:
        key = (c.min_length, c.max_length, tuple(c.patterns), tuple(c.formats), tuple(excluded))
        if key not in self._strings:
            expr = self._string(c, excluded)
            if expr is not None and len(expr) > 40:
                expr = self.add_rule("string", expr)
            self._strings[key] = expr
        return self._strings[key]

    def _string(self, c: Conj, excluded: List[str]) -> Optional[str]:
        lo, hi = c.min_length, c.max_length
        if hi is not None and lo > hi:
            return None
        regexes: List[Tuple[str, bool, str, str]] = []  # (regex, search, keyword, pointer)
        for p, ptr in c.patterns:
            regexes.append((p, True, "pattern", ptr))
        from .formats import format_regex  # noqa: PLC0415

        for f, ptr in c.formats:
            rx = format_regex(f)
            if rx is not None:
                regexes.append((rx, False, "format", ptr))
        live_excluded = [
            v for v in excluded if conj_accepts(self.norm, Conj(types={"string"}, number=None, min_length=lo,
                                                                  max_length=hi, patterns=c.patterns,
                                                                  formats=c.formats), v)
        ]
        if live_excluded:
            regexes.append((not_in_set_regex(live_excluded), False, "not", c.origin.get("not", "")))
        if not regexes:
            if lo == 0 and hi is None:
                return "json_string"
            if hi is not None and hi > MAX_COUNT_BOUND:
                self.norm.relax("maxLength", c.origin.get("maxLength", ""),
                                f"maxLength above {MAX_COUNT_BOUND} is not supported")
                hi = None
            if lo > MAX_COUNT_BOUND:
                raise SchemaError(f"minLength above {MAX_COUNT_BOUND} is not supported", "minLength",
                                  c.origin.get("minLength", ""))
            bound = f"{{{lo},{'' if hi is None else hi}}}"
            # The character expression is inlined in the repetition: a rule call per
            # character would make every multi-character token cross a rule end.
            return self.add_rule("string", f'"\\"" ({self.counted_char_expr}){bound} "\\""')
        if len(regexes) > 1:
            keyword, ptr = regexes[1][2], regexes[1][3]
            self.norm.relax(keyword, ptr, f"a string constrained by both {regexes[0][2]} and {keyword} is not supported")
            regexes = regexes[:1]
        rx, search, keyword, ptr = regexes[0]
        try:
            ebnf, _, max_len, applied = self.json_string_regex(rx, search, lo, hi)
        except GrammarError as e:
            raise SchemaError(str(e), keyword, ptr) from None
        if max_len == -2:
            return None
        if not applied:
            self.norm.relax("maxLength" if hi is not None else "minLength", ptr,
                            f"cannot combine length bounds with this {keyword}")
        return f'("\\"" ({ebnf}) "\\"")'

    # --- arrays --------------------------------------------------------------------------

    def array(self, c: Conj, depth: int, hint: str) -> Optional[str]:
        lay = self.layout(depth)
        lo, hi = c.min_items, c.max_items
        if hi is not None and lo > hi:
            return None
        if self.strict_mode and c.items == TRUE_SUB and c.prefix and not c.all_items_evaluated:
            items_sub: Optional[Sub] = None
        else:
            items_sub = c.items
        positions: List[Optional[str]] = []
        for i, p in enumerate(c.prefix):
            positions.append(self.value(p, depth + 1, f"{hint}_{i}"))
        item = self.value(items_sub, depth + 1, f"{hint}_item") if items_sub is not None else None
        # the longest allowed array given impossible positions
        limit: Optional[int] = None
        for i, p in enumerate(positions):
            if p is None:
                limit = i
                break
        if limit is None and item is None:
            limit = len(positions)
        if limit is not None:
            hi = limit if hi is None else min(hi, limit)
        if hi is not None and lo > hi:
            return None
        if c.contains:
            return self.array_contains(c, lay, lo, hi, positions, item, depth, hint)
        if c.unique_items and (hi is None or hi > 1):
            return self.array_unique(c, lay, lo, hi, depth)
        return self.array_body(lay, lo, hi, positions, item)

    def array_body(self, lay: Layout, lo: int, hi: Optional[int], positions: List[Optional[str]], item: Optional[str]) -> Optional[str]:
        sep = lay.item_sep
        k = len(positions)
        # tail after the prefix: items repeated
        def tail(count_before: int) -> Optional[str]:
            t_lo = max(0, lo - count_before)
            t_hi = None if hi is None else hi - count_before
            if t_hi is not None and t_hi < t_lo:
                return None
            if t_hi == 0 or item is None:
                return "" if t_lo == 0 else None
            return f"({sep} {item}){{{t_lo},{'' if t_hi is None else t_hi}}}"

        def rest(i: int) -> Optional[str]:
            """Elements from position i on, i >= 1 already emitted."""
            if hi is not None and i >= hi:
                return "" if i >= lo else None
            if i >= k:
                return tail(i)
            nxt = rest(i + 1)
            if positions[i] is None or nxt is None:
                return "" if i >= lo else None
            take = f"{sep} {positions[i]} {nxt}".strip()
            return f"({take})?" if i >= lo else f"({take})"

        if k:
            first = positions[0]
            more = rest(1)
            nonempty = None if first is None or more is None or (hi is not None and hi < 1) else f"{first} {more}".strip()
        elif item is not None and (hi is None or hi >= 1):
            t_lo = max(0, lo - 1)
            t_hi = None if hi is None else hi - 1
            nonempty = f"{item} ({sep} {item}){{{t_lo},{'' if t_hi is None else t_hi}}}" if t_hi != 0 else item
        else:
            nonempty = None
        forms = []
        if nonempty is not None:
            forms.append(f"{lay.open_array} {nonempty} {lay.close_array}")
        if lo == 0:
            forms.append(lay.empty_array)
        if not forms:
            return None
        return "(" + " | ".join(forms) + ")"

    def array_contains(self, c: Conj, lay: Layout, lo: int, hi: Optional[int], positions: List[Optional[str]],
                       item: Optional[str], depth: int, hint: str) -> Optional[str]:
        """Arrays where the number of items matching ``contains`` lies in [minContains, maxContains]."""
        active = [entry for entry in c.contains if entry[1] > 0 or entry[2] is not None]
        if not active:
            return self.array_body(lay, lo, hi, positions, item)
        s, low, high, ptr = active[0]
        if len(active) > 1 or positions:
            self.norm.relax("contains", ptr, "contains with prefixItems or several contains is not supported")
        if item is None:
            return lay.empty_array if low == 0 and lo == 0 else None
        if (hi is not None and (high is None or hi < high)) or lo > low:
            self.norm.relax("contains", ptr, "contains with minItems/maxItems is not supported")
        matching = self.value(_conj_sub(c.items, s), depth + 1, f"{hint}_contains")
        sep = lay.item_sep
        if high is None:
            if matching is None:
                return None
            body = f"({item} {sep})* {matching} (({sep} {item})* {sep} {matching}){{{low - 1}}} ({sep} {item})*"
            return f"({lay.open_array} {body} {lay.close_array})"
        if high < low:
            return None
        if high > MAX_COUNT_STATES:
            self.norm.relax("maxContains", ptr, f"maxContains above {MAX_COUNT_STATES} is not supported")
        if len({loc[1] for loc in s}) > 1:
            self.norm.relax("maxContains", ptr, "maxContains over schemas from different documents")
        negated = self.norm.synthetic({"not": {"allOf": [loc[0] for loc in s]}}, s[0][1], ptr + "/contains")
        other = self.value(_conj_sub(c.items, (negated,)), depth + 1, f"{hint}_other")
        forms = []
        if low == 0:
            forms.append(lay.empty_array)
            if other is not None:
                forms.append(f"{lay.open_array} {other} ({sep} {other})* {lay.close_array}")
        if matching is not None:
            lead = f"({other} {sep})* " if other is not None else ""
            gap = f"({sep} {other})* " if other is not None else ""
            for k in range(max(low, 1), min(high, MAX_COUNT_STATES) + 1):
                body = f"{lead}{matching} ({gap}{sep} {matching}){{{k - 1}}} {gap}".strip()
                forms.append(f"{lay.open_array} {body} {lay.close_array}")
        return "(" + " | ".join(forms) + ")" if forms else None

    def array_unique(self, c: Conj, lay: Layout, lo: int, hi: Optional[int], depth: int) -> Optional[str]:
        ptr = c.origin.get("uniqueItems", "")
        if c.prefix:
            self.norm.relax("uniqueItems", ptr, "uniqueItems with prefixItems is not supported")
            return self.array_body(lay, lo, hi, [], None)
        domain = self.finite_domain(c.items)
        if domain is None or len(domain) > MAX_UNIQUE_DOMAIN:
            self.norm.relax("uniqueItems", ptr, "uniqueItems is only supported when the items are a small finite set")
            item = self.value(c.items, depth + 1, "item")
            return self.array_body(lay, lo, hi, [], item)
        forms = []
        top = len(domain) if hi is None else min(hi, len(domain))
        for n in range(lo, top + 1):
            for perm in itertools.permutations(domain, n):
                if not perm:
                    forms.append(lay.empty_array)
                    continue
                items = f" {lay.item_sep} ".join(value_literal(v, self.layout, depth + 1) for v in perm)
                forms.append(f"{lay.open_array} {items} {lay.close_array}")
        return "(" + " | ".join(forms) + ")" if forms else None

    def finite_domain(self, sub: Sub) -> Optional[List[Any]]:
        values: Dict[Any, Any] = {}
        for conj in self.norm.normalize_sub(sub):
            if conj.consts is not None:
                cands = conj.consts
            elif conj.number is None and conj.types <= {"null", "boolean"}:
                cands = ([None] if "null" in conj.types else []) + ([True, False] if "boolean" in conj.types else [])
            else:
                return None
            for v in cands:
                if conj_accepts(self.norm, conj, v):
                    values.setdefault(canonical(v), v)
        return list(values.values())

    # --- objects -------------------------------------------------------------------------

    def object(self, c: Conj, depth: int, hint: str) -> Optional[str]:
        lay = self.layout(depth)
        names_sub = c.property_names
        members: List[Tuple[str, bool]] = []
        declared = list(c.properties) + [r for r in c.required if r not in c.properties]
        for name in declared:
            required = name in c.required
            if names_sub != TRUE_SUB and not sub_accepts(self.norm, names_sub, name):
                if required:
                    return None
                continue
            vsub = c.properties.get(name)
            if vsub is None:
                vsub = self._undeclared_value(c, name)
            else:
                for p, s in c.pattern_properties:
                    if self.norm.pattern_matches(p, name):
                        vsub = _conj_sub(vsub, s)
            v = self.value(vsub, depth + 1, name)
            if v is None:
                if required:
                    return None
                continue
            members.append((f"{string_literal(name)} {lay.key_sep} {v}", required))
        extra = self.extra_member(c, declared, lay, depth, hint)
        lo, hi = c.min_properties, c.max_properties
        if hi is not None and lo > hi:
            return None
        if self.any_order and len(members) > 1:
            return self.object_any_order(c, lay, members, extra, hint)
        counted = hi is not None or lo > 0
        cap = (hi if hi is not None else lo) if counted else 0
        if cap > MAX_COUNT_STATES:
            self.norm.relax("maxProperties" if hi is not None else "minProperties",
                            c.origin.get("maxProperties") or c.origin.get("minProperties", ""),
                            f"property counts above {MAX_COUNT_STATES} are not supported")
            counted, cap, lo, hi = False, 0, 0, None
        sep = lay.item_sep
        n = len(members)
        chain: Dict[Tuple[str, int, int], Optional[str]] = {}

        def clamp(count: int) -> int:
            return min(count, lo) if hi is None else count

        def extras(count: int, first: bool) -> Optional[str]:
            e_lo = max(0, lo - count)
            e_hi = None if hi is None else hi - count
            if e_hi is not None and e_hi < 0:
                return None
            if extra is None or e_hi == 0:
                return "" if e_lo == 0 else None
            if first:  # nothing emitted yet: no leading comma; at least one extra here
                lo1 = max(0, e_lo - 1)
                hi1 = None if e_hi is None else e_hi - 1
                return f"{extra} ({sep} {extra}){{{lo1},{'' if hi1 is None else hi1}}}"
            return f"({sep} {extra}){{{e_lo},{'' if e_hi is None else e_hi}}}"

        def after(i: int, count: int) -> Optional[str]:
            """Members from declared i on, `count` (>= 1) already emitted."""
            key = ("S", i, clamp(count))
            if key in chain:
                return chain[key]
            if i == n:
                result = extras(count, False)
            else:
                kv, required = members[i]
                take_rest = after(i + 1, count + 1) if hi is None or count + 1 <= hi else None
                take = None if take_rest is None else f"{sep} {kv} {take_rest}".strip()
                skip = None if required else after(i + 1, count)
                result = _either(take, skip)
            chain[key] = self._maybe_rule(result, hint)
            return chain[key]

        def first(i: int) -> Optional[str]:
            """Members from declared i on, none emitted yet, at least one to come."""
            key = ("F", i, 0)
            if key in chain:
                return chain[key]
            if i == n:
                result = extras(0, True) if extra is not None and (hi is None or hi >= 1) else None
            else:
                kv, required = members[i]
                rest = after(i + 1, 1) if hi is None or hi >= 1 else None
                take = None if rest is None else f"{kv} {rest}".strip()
                skip = None if required else first(i + 1)
                result = _either(take, skip)
            chain[key] = self._maybe_rule(result, hint)
            return chain[key]

        nonempty = first(0)
        forms = []
        if nonempty is not None:
            forms.append(f"{lay.open_object} {nonempty} {lay.close_object}")
        if lo == 0 and not any(r for _, r in members):
            forms.append(lay.empty_object)
        if not forms:
            return None
        return "(" + " | ".join(forms) + ")"

    def object_any_order(
        self, c: Conj, lay: Layout, members: List[Tuple[str, bool]], extra: Optional[str], hint: str
    ) -> Optional[str]:
        """Members in any order: the state is the set of required members written so far.

        Optional and additional members may appear anywhere (a repeated optional key
        carries a valid value each time). Property counts cannot be tracked here.
        """
        if c.min_properties > 0 or c.max_properties is not None:
            self.norm.relax("maxProperties" if c.max_properties is not None else "minProperties",
                            c.origin.get("maxProperties") or c.origin.get("minProperties", ""),
                            "property counts are not supported with any_order")
        required = [kv for kv, r in members if r]
        if len(required) > MAX_ANY_ORDER_REQUIRED:
            raise SchemaError(
                f"any_order supports at most {MAX_ANY_ORDER_REQUIRED} required properties per object",
                "required",
                c.origin.get("required", ""),
            )
        loose = [kv for kv, r in members if not r] + ([extra] if extra is not None else [])
        loose_rule = self.add_rule(hint + "_loose", " | ".join(loose)) if loose else None
        full = (1 << len(required)) - 1
        names: Dict[int, str] = {}
        sep = lay.item_sep

        def after(mask: int) -> str:
            if mask in names:
                return names[mask]
            name = self.fresh(hint + "_any")
            names[mask] = name
            alts = ['""'] if mask == full else []
            for i, kv in enumerate(required):
                if not mask & (1 << i):
                    alts.append(f"{sep} {kv} {after(mask | (1 << i))}")
            if loose_rule is not None:
                alts.append(f"{sep} {loose_rule} {name}")
            self.rules[name] = " | ".join(alts)
            return name

        firsts = [f"{kv} {after(1 << i)}" for i, kv in enumerate(required)]
        if loose_rule is not None:
            firsts.append(f"{loose_rule} {after(0)}")
        forms = [f"{lay.open_object} ({' | '.join(firsts)}) {lay.close_object}"] if firsts else []
        if not required:
            forms.append(lay.empty_object)
        return "(" + " | ".join(forms) + ")" if forms else None

    def _maybe_rule(self, expr: Optional[str], hint: str) -> Optional[str]:
        if expr is None or len(expr) < 60:
            return expr
        return self.add_rule(hint + "_m", expr)

    def _undeclared_value(self, c: Conj, name: str) -> Sub:
        sub: Sub = TRUE_SUB
        matched = False
        for p, s in c.pattern_properties:
            if self.norm.pattern_matches(p, name):
                sub = _conj_sub(sub, s)
                matched = True
        return sub if matched else c.additional

    def extra_member(self, c: Conj, declared: List[str], lay: Layout, depth: int, hint: str) -> Optional[str]:
        """A `key: value` member for keys not declared in `properties`, or None."""
        # strict_mode (XGrammar's): no additionalProperties keyword means none allowed
        strict_closed = self.strict_mode and c.additional == TRUE_SUB and not c.all_props_evaluated
        if strict_closed and not c.pattern_properties:
            return None
        key_forms: List[Tuple[str, Sub]] = []  # (key regex, value schema)
        pp_ptr = c.origin.get("patternProperties", "")
        for p, s in c.pattern_properties:
            if any(self.norm.pattern_matches(p, d) for d in declared):
                self.norm.relax("patternProperties", pp_ptr,
                                f"pattern {p!r} also matches a declared property name")
            key_forms.append((p, s))
        if len(key_forms) > 1 and len({tuple(id(x[0]) for x in s) for _, s in key_forms}) > 1:
            self.norm.relax("patternProperties", pp_ptr, "several patternProperties with different schemas")
        additional_values = [] if strict_closed else self.norm.normalize_sub(c.additional)
        universal = any(p in ("", ".*", "^.*$", ".*$", "^.*", "[\\s\\S]*") for p, _ in key_forms)
        parts = []
        if additional_values and not universal:
            if key_forms:
                self.norm.relax("additionalProperties", c.origin.get("additionalProperties", pp_ptr),
                                "additionalProperties next to patternProperties is only supported when it is false")
            else:
                key = self.key_expr(c, None, declared)
                v = self.value(c.additional, depth + 1, hint + "_extra")
                if key is not None and v is not None:
                    parts.append(f"{key} {lay.key_sep} {v}")
        for p, s in key_forms:
            key = self.key_expr(c, p, [])
            v = self.value(s, depth + 1, hint + "_pattern")
            if key is not None and v is not None:
                parts.append(f"{key} {lay.key_sep} {v}")
        if not parts:
            return None
        return self.add_rule(hint + "_extra_kv", " | ".join(parts))

    def key_expr(self, c: Conj, pattern: Optional[str], declared: List[str]) -> Optional[str]:
        names = c.property_names
        if names == TRUE_SUB and pattern is None:
            if not declared:
                return "json_string"
            direct = key_not_in_set_ebnf(tuple(declared))
            if direct is not None:
                return self.add_rule("key", direct)
        regex = pattern if pattern is not None else (not_in_set_regex(declared) if declared else None)
        search = pattern is not None
        if names == TRUE_SUB:
            if regex is None:
                return "json_string"
            ebnf, _, max_len, _ = self.json_string_regex(regex, search, 0, None)
            return None if max_len == -2 else f'("\\"" ({ebnf}) "\\"")'
        # propertyNames: keys are strings satisfying it (other types cannot be keys)
        key_conjs = [k for k in self.norm.normalize_sub(names) if "string" in k.types]
        forms = []
        for k in key_conjs:
            k = k.copy()
            k.types, k.number = {"string"}, None
            if k.consts is not None:
                k.consts = [v for v in k.consts if isinstance(v, str) and v not in declared]
                if pattern is not None:
                    k.consts = [v for v in k.consts if self.norm.pattern_matches(pattern, v)]
                forms.extend(string_literal(v) for v in k.consts if conj_accepts(self.norm, k, v))
                continue
            if regex is not None:
                if pattern is not None:
                    k.patterns = k.patterns + [(pattern, "")]
                else:
                    k.excluded = k.excluded + list(declared)
            expr = self.string(k, [v for v in k.excluded if isinstance(v, str)])
            if expr is not None:
                forms.append(expr)
        if not forms:
            return None
        return "(" + " | ".join(forms) + ")"


def _either(a: Optional[str], b: Optional[str]) -> Optional[str]:
    if a is None:
        return b
    if b is None:
        return a
    if a == b:
        return a
    if a == "":
        return f"({b})?"
    if b == "":
        return f"({a})?"
    return f"({a} | {b})"


def base_rules(emitter: Emitter) -> Dict[str, str]:
    """Shared helper rules every schema grammar may use."""
    any_char = emitter.char_expr
    required_escape = _core.regex_to_json_string('[\\x00-\\x1F"\\\\/]', False, False, 0, -1)[0]
    rules = {
        "json_required_escape": required_escape,
        "json_string": f'"\\"" ({any_char})* "\\""',
        "json_chars": f"({any_char})*",
        "json_chars1": f"({any_char})+",
    }
    if emitter.any_whitespace:
        rules["ws"] = f"[ \\t\\n\\r]{{0,{emitter.max_ws}}}"
    if emitter.uses_any_value:
        lay = emitter.layout(0)
        rules["json_value"] = (
            '"null" | "true" | "false" | json_number | json_string | json_array | json_object'
        )
        rules["json_number"] = '"-"? ("0" | [1-9] [0-9]*) ("." [0-9]+)? ([eE] [-+]? [0-9]+)?'
        rules["json_array"] = (
            f"{lay.open_array} json_value ({lay.item_sep} json_value)* {lay.close_array} | {lay.empty_array}"
        )
        member = f"json_string {lay.key_sep} json_value"
        rules["json_object"] = (
            f"{lay.open_object} {member} ({lay.item_sep} {member})* {lay.close_object} | {lay.empty_object}"
        )
    return rules


__all__ = ["Emitter", "base_rules", "ebnf_literal", "json", "not_in_set_regex", "Callable"]
