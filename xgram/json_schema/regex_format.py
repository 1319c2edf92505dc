r"""The ``regex`` format: ECMA-262 regular expressions as a context-free grammar.

The set of valid ECMA-262 patterns is not regular (groups nest), but its syntax is
context-free, so it is written here as EBNF rules. The rules are over JSON string
*content*: a decoded backslash is spelled ``\\\\`` in the JSON text, a quote ``\\"``, a
control character by its short or ``\\u00XX`` escape, ``/`` raw or escaped.

A pattern is accepted when it is valid both with the ``u`` flag and without it (and
without the web-compatibility grammar of ECMA-262 annex B, which the JSON Schema test
suite does not allow: ``\\a`` is invalid). Some valid patterns are rejected, because
their validity is not context-free or the exact rule would be large:

* backreferences ``\\1``...``\\9`` and ``\\k<name>`` (valid only when the group exists:
  a count or a name compared across the pattern), and ``\\0``;
* more than one named group (names must differ); names are ASCII identifiers;
* class ranges other than ``0-9``, ``a-z`` or ``A-Z`` sub-ranges in order (``[a-f]``):
  ordering two arbitrary characters needs a state per character;
* ``{m,n}`` unless ``m`` has fewer digits than ``n`` or both have at most two, neither
  with a leading zero (``{1,10}``, ``{2,5}``), so that ``m <= n`` can be checked;
* ``\\u{...}``, ``\\p{...}`` (``u`` flag only) and lone surrogates.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Dict, List, Tuple

__all__ = ["regex_format_rules"]

_SYNTAX = "^$\\.*+?()[]{}|"
_HEX = "[0-9a-fA-F]"


def _ebnf_literal(json_text: str) -> str:
    """An EBNF string literal matching ``json_text`` (already JSON string content)."""
    return '"' + json_text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lit(decoded: str) -> str:
    r"""The EBNF for the JSON spelling of ``decoded`` (raw, except ``"`` and ``\\``)."""
    return _ebnf_literal(decoded.replace("\\", "\\\\").replace('"', '\\"'))


def _escape_forms(cp: int) -> List[str]:
    r"""EBNF alternatives for the escaped JSON spellings of ``cp`` (``\uXXXX`` any case)."""
    forms = [f'"\\\\u" {"".join(_hex_digit(d) for d in f"{cp:04x}")}']
    short = {0x08: "b", 0x0C: "f", 0x0A: "n", 0x0D: "r", 0x09: "t", 0x22: '\\"', 0x5C: "\\\\"}
    short[0x2F] = "/"
    if cp in short:
        forms.append(f'"\\\\{short[cp]}"')
    return forms


def _hex_digit(d: str) -> str:
    return f'"{d}"' if d.isdigit() else f"[{d}{d.upper()}]"


def _json_class(ranges: List[Tuple[int, int]]) -> str:
    """One decoded code point of ``ranges`` as JSON string content.

    Quote, backslash, controls and ``/`` get every spelling JSON allows; the other
    characters are raw.
    """
    special = {0x22, 0x5C, 0x2F} | set(range(0x20))
    raw: List[Tuple[int, int]] = []
    escaped: List[int] = []
    for lo, hi in ranges:
        start = lo
        for cp in range(lo, min(hi, 0x5C) + 1):
            if cp in special:
                if start < cp:
                    raw.append((start, cp - 1))
                escaped.append(cp)
                start = cp + 1
        if start <= hi:
            raw.append((max(start, lo), hi))
    raw = [(lo, hi) for lo, hi in raw if lo <= hi] + ([(0x2F, 0x2F)] if 0x2F in escaped else [])
    parts = []
    if raw:
        parts.append("[" + "".join(_class_range(lo, hi) for lo, hi in sorted(raw)) + "]")
    for cp in escaped:
        parts.extend(_escape_forms(cp))
    return "(" + " | ".join(parts) + ")"


def _class_range(lo: int, hi: int) -> str:
    def one(cp: int) -> str:
        return f"\\U{cp:08X}"

    return one(lo) if lo == hi else f"{one(lo)}-{one(hi)}"


def _except(chars: str) -> List[Tuple[int, int]]:
    """Every code point but ``chars`` and the surrogates."""
    cut = sorted({ord(c) for c in chars} | set(range(0xD800, 0xE000)))
    out, start = [], 0
    for cp in cut:
        if start < cp:
            out.append((start, cp - 1))
        start = cp + 1
    out.append((start, 0x10FFFF))
    return out


def _ordered_pairs(chars: str) -> str:
    """``a-b`` for every ``a <= b`` in ``chars`` (a sorted run): an EBNF choice."""
    alternatives = []
    for i, a in enumerate(chars):
        alternatives.append(f'"{a}-" [{chars[i]}-{chars[-1]}]')
    return " | ".join(alternatives)


def _quantifier_range() -> str:
    """``m,n`` with ``m <= n`` (see the module docstring for the subset)."""
    same_one = " | ".join(f'"{a},{a}" | "{a}," [{a}-9]' for a in "0123456789")
    same_two = []
    for a in "123456789":
        for b in "0123456789":
            same_two.append(f'"{a}{b},{a}" [{b}-9]')
        if a != "9":
            same_two.append(f'"{a}" [0-9] "," [{int(a) + 1}-9] [0-9]')
    return f"{same_one} | {' | '.join(same_two)} | rx_shorter"


@lru_cache(maxsize=1)
def regex_format_rules(prefix: str = "rx") -> Tuple[Dict[str, str], str]:
    """The ``regex`` format as EBNF rules over JSON string content.

    Parameters
    ----------
    prefix : str
        Every rule name starts with it.

    Returns
    -------
    (dict, str)
        The rules (name -> body) and the name of the rule for a whole pattern.

    """
    p = prefix
    identity = " | ".join(_lit("\\" + c) for c in _SYNTAX + "/")
    control = _lit(chr(92) + "c") + " [A-Za-z]"
    char_escape = (
        f"{' | '.join(_lit(chr(92) + c) for c in 'fnrtv')} | {control}"
        f" | {_lit(chr(92) + 'x')} {_HEX} {_HEX} | {_lit(chr(92) + 'u')} {_HEX}{{4}} | {identity}"
    )
    class_escapes = " | ".join(_lit("\\" + c) for c in "dDsSwW")
    rules = {
        f"{p}_pattern": f"{p}_d0 | {p}_d1",
        f"{p}_d0": f'{p}_a0 ("|" {p}_a0)*',
        # the patterns other than "": some term, or some "|"
        f"{p}_nonempty": f'{p}_t0+ ("|" {p}_a0)* | {p}_a0 ("|" {p}_a0)+ | {p}_d1',
        f"{p}_d1": f'({p}_a0 "|")* {p}_a1 ("|" {p}_a0)*',
        f"{p}_a0": f"{p}_t0*",
        f"{p}_a1": f"{p}_t0* {p}_t1 {p}_t0*",
        f"{p}_t0": f"{p}_assert0 | {p}_atom0 {p}_quant?",
        f"{p}_t1": f"{p}_assert1 | {p}_atom1 {p}_quant?",
        f"{p}_assert0": f'"^" | "$" | {_lit(chr(92) + "b")} | {_lit(chr(92) + "B")}'
        f' | {p}_look {p}_d0 ")"',
        f"{p}_assert1": f'{p}_look {p}_d1 ")"',
        f"{p}_look": '"(?=" | "(?!" | "(?<=" | "(?<!"',
        f"{p}_atom0": f'{p}_char | "." | {p}_escape | {p}_class | "(" {p}_d0 ")"'
        f' | "(?:" {p}_d0 ")"',
        f"{p}_atom1": f'"(" {p}_d1 ")" | "(?:" {p}_d1 ")" | "(?<" {p}_name ">" {p}_d0 ")"',
        f"{p}_name": "[A-Za-z_$] [A-Za-z0-9_$]*",
        f"{p}_char": _json_class(_except(_SYNTAX)),
        f"{p}_escape": f"{class_escapes} | {char_escape}",
        f"{p}_quant": f'("*" | "+" | "?" | "{{" [0-9]+ ","? "}}" | "{{" {p}_range "}}") "?"?',
        f"{p}_range": _quantifier_range().replace("rx_shorter", f"{p}_shorter"),
        f"{p}_shorter": f'"0," [1-9] [0-9]* | [1-9] {p}_shorter_tail [0-9]',
        f"{p}_shorter_tail": f'[0-9] {p}_shorter_tail [0-9] | "," [1-9] [0-9]*',
        f"{p}_class": f'"[" "^"? "-"? {p}_class_item* "-"? "]"',
        f"{p}_class_item": f"{p}_class_range | {p}_class_char | {p}_class_escape",
        f"{p}_class_range": " | ".join(
            _ordered_pairs(run) for run in ("0123456789", "abcdefghijklmnopqrstuvwxyz")
        )
        + " | "
        + _ordered_pairs("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
        f"{p}_class_char": _json_class(_except("\\]-")),
        f"{p}_class_escape": f"{class_escapes} | {char_escape} | {_lit(chr(92) + 'b')}"
        f" | {_lit(chr(92) + '-')}",
    }
    return rules, f"{p}_pattern"
