r"""How JSON text spells values and separators: literals, keys, whitespace.

A constant is spelled the way a JSON serialiser writes it, plus the spellings that
denote the same value and are cheap to allow: the escapes of characters JSON must
escape, ``\\/``, trailing zeros of a number's fraction, ``-0``. Exponent forms
and ``\\u`` escapes of ordinary characters are not offered for constants (a
narrower language, never a looser one).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Optional, Tuple

from .. import _core
from .values import is_number, to_decimal

MAX_PERMUTED_KEYS = 4
# Longest member value a permuted constant object repeats in each key order; a
# longer one (a nested object, a long string) becomes a rule the orders share.
MAX_REPEATED_MEMBER = 40

_SHORT = {
    '"': '\\"',
    "\\": "\\\\",
    "/": "\\/",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\\x7f]')
_HAS_SEVERAL_SPELLINGS = re.compile(r'[\x00-\x1f"\\/]')


def ebnf_literal(text: str) -> str:
    """``text`` as an EBNF string literal (double-quoted, escaped)."""
    if _NEEDS_ESCAPE.search(text) is None:
        return '"' + text + '"'
    out = []
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _char_spellings(ch: str) -> Optional[str]:
    """EBNF alternatives for a character with several JSON spellings, else None."""
    cp = ord(ch)
    if cp >= 0x20 and ch not in '"\\/':
        return None
    forms = []
    if ch == "/":
        forms.append(ebnf_literal("/"))
    if ch in _SHORT:
        forms.append(ebnf_literal(_SHORT[ch]))
    hex4 = f"{cp:04x}"
    digits = " ".join(f"[{d}{d.upper()}]" if d.isalpha() else f'"{d}"' for d in hex4)
    forms.append(f'"\\\\u" {digits}')
    return "(" + " | ".join(forms) + ")"


def string_content(value: str) -> str:
    """EBNF for the JSON string content (no quotes) spelling ``value``."""
    if _HAS_SEVERAL_SPELLINGS.search(value) is None:
        return ebnf_literal(value) if value else '""'
    parts = []
    run = []
    for ch in value:
        alt = _char_spellings(ch)
        if alt is None:
            run.append(ch)
            continue
        if run:
            parts.append(ebnf_literal("".join(run)))
            run = []
        parts.append(alt)
    if run:
        parts.append(ebnf_literal("".join(run)))
    return " ".join(parts) if parts else '""'


@lru_cache(maxsize=8192)
def string_literal(value: str) -> str:
    """EBNF for a JSON string literal with value ``value`` (quotes included; cached)."""
    return '"\\"" ' + string_content(value) + ' "\\""'


def number_literal(value: Any) -> str:
    """EBNF for the spellings of a number: plain decimal, trailing zeros, ``-0``."""
    d = to_decimal(value)
    if d == 0:
        return '("-"? "0" ("." "0"+)?)'
    sign = "-" if d < 0 else ""
    d = abs(d).normalize()
    text = format(d, "f")
    if "." in text:
        return f'({ebnf_literal(sign + text)} "0"*)'
    return f'({ebnf_literal(sign + text)} ("." "0"+)?)'


@dataclass(frozen=True)
class Layout:
    """Separators and whitespace of one nesting depth."""

    open_object: str
    close_object: str
    open_array: str
    close_array: str
    item_sep: str
    key_sep: str
    empty_object: str
    empty_array: str


def make_layout(
    depth: int,
    any_whitespace: bool,
    indent: Optional[int],
    separators: Optional[Tuple[str, str]],
) -> Layout:
    """The layout at ``depth`` (0 = the top-level value)."""
    if any_whitespace:
        return Layout(
            '"{" ws',
            'ws "}"',
            '"[" ws',
            'ws "]"',
            'ws "," ws',
            'ws ":" ws',
            '"{" ws "}"',
            '"[" ws "]"',
        )
    if separators is None:
        separators = (",", ": ") if indent is not None else (", ", ": ")
    item, key = separators
    if indent is None:
        return Layout(
            '"{"', '"}"', '"["', '"]"', ebnf_literal(item), ebnf_literal(key), '"{}"', '"[]"'
        )
    inner = "\n" + " " * (indent * (depth + 1))
    outer = "\n" + " " * (indent * depth)
    return Layout(
        ebnf_literal("{" + inner),
        ebnf_literal(outer + "}"),
        ebnf_literal("[" + inner),
        ebnf_literal(outer + "]"),
        ebnf_literal(item.rstrip(" ") + inner if item.strip() == "," else item + inner),
        ebnf_literal(key),
        '"{}"',
        '"[]"',
    )


def value_literal(
    value: Any,
    layout_at: Callable[[int], Layout],
    depth: int,
    share: Optional[Callable[[str, str], str]] = None,
) -> str:
    """EBNF for the spellings of a constant JSON value at nesting ``depth``.

    Parameters
    ----------
    value : JSON value
        The constant.
    layout_at : callable
        ``layout_at(depth)``: the separators and whitespace at a nesting depth.
    depth : int
        The nesting depth of ``value`` (0 = the top-level value).
    share : callable, optional
        ``share(hint, body) -> rule name``: a rule with that body. Given, the
        members of a small object are written once, as rules, and each key order
        names them; without it each order repeats its members' spellings, which
        multiplies the text by the number of orders at every level of nesting.

    """
    if value is None:
        return '"null"'
    if value is True:
        return '"true"'
    if value is False:
        return '"false"'
    if is_number(value):
        return number_literal(value)
    if isinstance(value, str):
        return string_literal(value)
    layout = layout_at(depth)
    if isinstance(value, list):
        if not value:
            return layout.empty_array
        items = f" {layout.item_sep} ".join(
            value_literal(v, layout_at, depth + 1, share) for v in value
        )
        return f"({layout.open_array} {items} {layout.close_array})"
    if isinstance(value, dict):
        if not value:
            return layout.empty_object
        permuted = 1 < len(value) <= MAX_PERMUTED_KEYS
        spelled = []
        for k, v in value.items():
            member = value_literal(v, layout_at, depth + 1, share)
            if permuted and share is not None and len(member) > MAX_REPEATED_MEMBER:
                member = share("const_member", member)
            spelled.append(f"{string_literal(k)} {layout.key_sep} {member}")
        # Key order is not part of an object's value: small objects take every order.
        orders = itertools.permutations(spelled) if permuted else [spelled]
        forms = [
            f"{layout.open_object} {f' {layout.item_sep} '.join(order)} {layout.close_object}"
            for order in orders
        ]
        return "(" + " | ".join(forms) + ")"
    raise TypeError(f"not a JSON value: {value!r}")


@lru_cache(maxsize=1)
def counted_char_expr() -> str:
    r"""One character of a JSON string in every spelling, as an EBNF expression.

    A surrogate pair written as two ``\\u`` escapes is one character here, which
    ``minLength``/``maxLength`` need; the expression is large, so only
    length-bounded strings use it.
    """
    return _core.regex_to_json_string("[\\s\\S]", False, True, 0, -1)[0]


def free_char_expr() -> str:
    """One unit of free JSON string text: ECMA-404's character or escape (small automaton)."""
    return FREE_CHAR


FREE_CHAR = '[^"\\\\\\x00-\\x1F] | "\\\\" (["\\\\/bfnrt] | "u" [0-9a-fA-F]{4})'
