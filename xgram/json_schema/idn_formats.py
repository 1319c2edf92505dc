"""The ``idn-hostname`` and ``idn-email`` formats as EBNF rules (IDNA2008).

An internationalized host name (RFC 5890 section 2.3.2.3) is a sequence of labels
separated by ``.`` or one of the dots IDNA maps to it (U+3002, U+FF0E, U+FF61). A label
is an NR-LDH label (ASCII letters, digits, hyphens) or a U-label: code points that RFC
5892 makes PVALID, or CONTEXTJ / CONTEXTO ones whose context rule holds, in NFC, not
starting with a combining mark, without ``--`` in the third and fourth positions, and
obeying the RFC 5893 Bidi rule wherever the name holds a right-to-left label. Each label's
ASCII form (its A-label) has at most 63 octets and the whole name at most 253.

Every rule above is regular, and the rules are built as automata over classes of code
points (:mod:`.format_automata`); the sets come from :mod:`.idna_tables`. Where the exact
language would need too many states the rules here are *stricter*, never looser:

* A-labels (``xn--...``) are rejected: whether the Punycode decodes to a valid U-label
  depends on where each code point is inserted, which no compact automaton follows.
* A U-label's A-label length is bounded, not computed: its ``xn--`` prefix, delimiter
  and ASCII code points count one each, and every other code point counts the most
  Punycode digits its delta can take (3 to 8, growing with the code point: the delta is
  at most ``(cp - 128) * 59 + 58``). The label is accepted when the bound is at most 63,
  e.g. up to 9 Han or 11 Greek letters, or 50 ASCII letters and a German umlaut.
* U-labels that hold a CONTEXTJ or CONTEXTO code point (ZWJ, ZWNJ, MIDDLE DOT, Greek
  KERAIA, Hebrew GERESH and GERSHAYIM, KATAKANA MIDDLE DOT) have at most 7 code points
  (3 in names of more than 3 labels).
* NFC is checked by a sufficient rule: no code point whose NFC quick check is No, no two
  adjacent combining marks (class > 0), and a code point whose quick check is Maybe
  only right after a starter that composes with no such code point.
* The 253-octet limit: a name has at most 3 labels of up to 63 octets, or at most 8 of
  up to 30, or is all ASCII and fits one of the ``hostname`` format's shapes.
* Code points unassigned in the Unicode version of the tables are rejected.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Dict, FrozenSet, List, NamedTuple, Optional, Tuple

from . import idna_tables
from .format_automata import HOSTNAME_SHAPES, Range, RuleWriter, parse_ranges, partition

__all__ = ["SEPARATORS", "idn_hostname_rules", "ldh_label_ebnf", "punycode_weight"]

#: The label separators of IDNA (RFC 3490 section 3.1): full stop and its three twins.
SEPARATORS = "[.\\u3002\\uFF0E\\uFF61]"

#: (longest A-label, most labels) of the name shapes, each within 253 octets.
_SHAPES = ((63, 3), (30, 8))

_CONTEXT_CHARS = {
    "ZWNJ": [(0x200C, 0x200C)],
    "ZWJ": [(0x200D, 0x200D)],
    "MIDDLE_DOT": [(0x00B7, 0x00B7)],
    "KERAIA": [(0x0375, 0x0375)],
    "GERESH": [(0x05F3, 0x05F4)],
    "KATAKANA_DOT": [(0x30FB, 0x30FB)],
}
_CONTEXT_NAMES = frozenset(_CONTEXT_CHARS)
#: Code points only the short, contextual labels hold: NFC_QC=Maybe (whose check needs
#: the previous starter) and Bidi AN (whose rule 4 needs the digits seen so far).
_CONTEXTUAL_ONLY = frozenset({"NFC_MAYBE", "BIDI_AN"})


def punycode_weight(cp: int, max_points: int = 59) -> int:
    """The most Punycode digits one inserted code point ``cp`` can cost in an A-label.

    Parameters
    ----------
    cp : int
        A non-ASCII code point.
    max_points : int
        The most code points a label can hold (59: ``xn--`` plus one digit each).

    Returns
    -------
    int
        Digits of the largest delta RFC 3492 can give ``cp`` (at most
        ``(cp - 128) * max_points + max_points - 1``: the code point climbs from 128 and
        the insertion index stays below the label length), under the bias that makes
        a number longest.

    """
    delta = (cp - 128) * max_points + max_points - 1
    digits = 1
    while _smallest_capacity(digits) < delta:
        digits += 1
    return digits


@lru_cache(maxsize=64)
def _smallest_capacity(digits: int) -> int:
    """The largest number every bias can write in ``digits`` Punycode digits."""
    best = None
    for bias in range(1000):  # adapt() never returns more than a few hundred
        weight, total, value = 1, 0, 0
        for i in range(1, digits + 1):
            threshold = min(max(36 * i - bias, 1), 26)
            value = total + (threshold - 1) * weight  # the last digit ends below t
            total += 35 * weight
            weight *= 36 - threshold
        best = value if best is None else min(best, value)
    assert best is not None
    return best


class _Symbol(NamedTuple):
    """A class of code points every label rule treats alike."""

    names: FrozenSet[str]  # the tables' sets holding it, and the context names above
    weight: int  # Punycode cost bound (1 for ASCII)


@lru_cache(maxsize=1)
def _alphabet() -> Dict[_Symbol, List[Range]]:
    """The label alphabet: PVALID, the contextual code points and ``a-z0-9-``."""
    sets = {
        name: parse_ranges(getattr(idna_tables, name))
        for name in (
            "BIDI_L BIDI_RTL BIDI_AN BIDI_EN BIDI_NSM MARK COMBINING VIRAMA NFC_MAYBE "
            "COMPOSING_STARTER JOINING_LD JOINING_RD JOINING_T GREEK HEBREW "
            "HIRAGANA_KATAKANA_HAN"
        ).split()
    }
    sets["HIRAGANA_KATAKANA_HAN"] = [
        r for lo, hi in sets["HIRAGANA_KATAKANA_HAN"] for r in _without(lo, hi, 0x30FB)
    ]  # RFC 5892 A.9 looks for *other* Hiragana, Katakana or Han code points
    sets.update(_CONTEXT_CHARS)
    sets["HYPHEN"] = [(0x2D, 0x2D)]
    sets["LETTER_L"] = [(0x6C, 0x6C)]
    sets["ASCII"] = [(0x2D, 0x2D), (0x30, 0x39), (0x61, 0x7A)]
    universe = sets["ASCII"] + parse_ranges(idna_tables.PVALID)
    universe += [r for ranges in _CONTEXT_CHARS.values() for r in ranges]
    universe += [(0x0660, 0x0669), (0x06F0, 0x06F9)]  # CONTEXTO digits: the Bidi rule decides
    cuts = [0x80, 0x800, 0x10000]  # where _band_weight steps up
    out: Dict[_Symbol, List[Range]] = {}
    for lo, hi, names in partition(sets, universe, cuts):
        weight = 1 if lo < 0x80 else _band_weight(lo)
        out.setdefault(_Symbol(names, weight), []).append((lo, hi))
    return out


def _band_weight(cp: int) -> int:
    """:func:`punycode_weight` of the last code point with as many UTF-8 bytes as ``cp``.

    Rounding up within each UTF-8 length keeps the alphabet (and the automata) small.
    """
    top = 0x7FF if cp <= 0x7FF else 0xFFFF if cp <= 0xFFFF else 0x10FFFF
    return punycode_weight(top)


def _without(lo: int, hi: int, cp: int) -> List[Range]:
    if not lo <= cp <= hi:
        return [(lo, hi)]
    return [r for r in ((lo, cp - 1), (cp + 1, hi)) if r[0] <= r[1]]


class _Label(NamedTuple):
    """The state of a U-label automaton (fields a variant does not use stay at rest)."""

    cost: int  # A-label octets so far (plain) or code points (contextual)
    position: int  # code points read, capped at 4
    third_is_hyphen: bool
    last_is_hyphen: bool
    previous: str  # "start", "safe" (non-composing starter), "unsafe", "combining"
    bidi_end_ok: bool  # the last non-NSM code point may end a Bidi label
    digits: int  # Bidi rule 4: 0 none, 1 EN seen, 2 AN seen
    previous_flags: FrozenSet[str]  # VIRAMA, LETTER_L, HEBREW of the previous code point
    joining: int  # ZWNJ regex: 0 idle, 1 after L/D and T*, 2 ZWNJ waiting for T* and R/D
    expect: str  # "", "l" after MIDDLE DOT, "greek" after KERAIA
    katakana_dot: bool
    hiragana_katakana_han: bool


_START = _Label(0, 0, False, False, "start", False, 0, frozenset(), 0, "", False, False)


def _bidi_class(names: FrozenSet[str]) -> str:
    for key, bidi in (
        ("BIDI_L", "L"),
        ("BIDI_RTL", "R"),
        ("BIDI_AN", "AN"),
        ("BIDI_EN", "EN"),
        ("BIDI_NSM", "NSM"),
    ):
        if key in names:
            return bidi
    return "N"  # ES, CS, ET, ON, BN


def _label_step(
    state: _Label, symbol: _Symbol, *, bidi: str, contextual: bool, budget: int
) -> Optional[_Label]:
    """One code point of a U-label (``None``: the label is invalid from here on).

    ``bidi``: ``"free"`` (the name holds no right-to-left label: no Bidi rule, and this
    label holds no R, AL or AN code point), ``"ltr"`` or ``"rtl"`` (a label of a Bidi
    domain name, RFC 5893 section 2). ``contextual``: whether the CONTEXTJ / CONTEXTO
    code points are allowed (then ``budget`` counts code points, else A-label octets).
    """
    names, weight = symbol
    if not contextual and (names & _CONTEXT_NAMES or names & _CONTEXTUAL_ONLY):
        return None
    cls = _bidi_class(names)
    if bidi == "free" and cls in ("R", "AN"):
        return None
    if bidi == "ltr" and (cls in ("R", "AN") or (state.position == 0 and cls != "L")):
        return None
    if bidi == "rtl" and (cls == "L" or (state.position == 0 and cls != "R")):
        return None
    cost = state.cost + (1 if contextual else weight)
    if cost > budget:
        return None
    hyphen = "HYPHEN" in names
    if state.position == 0 and (hyphen or "MARK" in names):
        return None
    if state.position == 3 and state.third_is_hyphen and hyphen:
        return None  # "--" in the third and fourth positions (RFC 5891 section 4.2.3.1)
    combining = "COMBINING" in names
    if combining and state.previous == "combining":
        return None
    if "NFC_MAYBE" in names and state.previous not in ("start", "safe"):
        return None
    if combining:
        previous = "combining"
    elif contextual:
        previous = "unsafe" if "COMPOSING_STARTER" in names else "safe"
    else:
        previous = "starter"  # no NFC_QC=Maybe code point follows: which starter is moot
    bidi_end_ok, digits = state.bidi_end_ok, state.digits
    if cls != "NSM":
        bidi_end_ok = cls in ("L", "EN") if bidi == "ltr" else cls in ("R", "EN", "AN")
    if bidi == "rtl" and cls in ("EN", "AN"):
        seen = 1 if cls == "EN" else 2
        if digits not in (0, seen):
            return None
        digits = seen
    fields = dict(
        cost=cost,
        position=min(state.position + 1, 4),
        third_is_hyphen=state.third_is_hyphen or (state.position == 2 and hyphen),
        last_is_hyphen=hyphen,
        previous=previous,
        bidi_end_ok=bidi_end_ok,
        digits=digits,
    )
    if contextual:
        context = _context_step(state, names)
        if context is None:
            return None
        fields.update(context)
    return state._replace(**fields)


def _context_step(state: _Label, names: FrozenSet[str]) -> Optional[dict]:
    """The RFC 5892 appendix A rules for one code point: the updated fields, or None."""
    if state.expect == "l" and "LETTER_L" not in names:
        return None
    if state.expect == "greek" and "GREEK" not in names:
        return None
    before = state.previous_flags
    joining = state.joining
    if "ZWJ" in names and "VIRAMA" not in before:
        return None
    if "ZWNJ" in names:
        if "VIRAMA" in before:
            joining = 0
        elif joining == 1:
            joining = 2  # the regex of A.1 still needs (T)* then R or D
        else:
            return None
    elif joining == 2:
        if "JOINING_T" in names:
            pass
        elif "JOINING_RD" in names:
            joining = 1 if "JOINING_LD" in names else 0
        else:
            return None
    elif "JOINING_LD" in names:
        joining = 1
    elif not (joining == 1 and "JOINING_T" in names):
        joining = 0
    if "MIDDLE_DOT" in names and "LETTER_L" not in before:
        return None
    if "GERESH" in names and "HEBREW" not in before:
        return None
    expect = "l" if "MIDDLE_DOT" in names else "greek" if "KERAIA" in names else ""
    return dict(
        previous_flags=names & {"VIRAMA", "LETTER_L", "HEBREW"},
        joining=joining,
        expect=expect,
        katakana_dot=state.katakana_dot or "KATAKANA_DOT" in names,
        hiragana_katakana_han=state.hiragana_katakana_han or "HIRAGANA_KATAKANA_HAN" in names,
    )


def _label_accepting(state: _Label, *, bidi: str) -> bool:
    if state.position == 0 or state.last_is_hyphen:
        return False
    if bidi != "free" and not state.bidi_end_ok:
        return False
    if state.joining == 2 or state.expect:
        return False
    return not state.katakana_dot or state.hiragana_katakana_han


def ldh_label_ebnf(max_len: int, *, letter_first: bool = False) -> str:
    """An NR-LDH label of 1..``max_len`` characters as an EBNF expression.

    ASCII letters (either case), digits and hyphens, not starting or ending with a
    hyphen, without ``--`` in the third and fourth positions (those are A-labels or
    invalid). ``letter_first``: the label must start with a letter (the Bidi rule's
    first condition for an LTR label).
    """
    a, ah = "[0-9A-Za-z]", "[0-9A-Za-z\\-]"
    first = "[A-Za-z]" if letter_first else a
    if max_len == 1:
        return first
    if max_len <= 4:
        return f"({first} ({ah}{{0,{max_len - 2}}} {a})?)"
    return f"({first} ({ah}{{0,2}} {a} | {ah} ({a} {ah} | [\\-] {a}) {ah}{{0,{max_len - 5}}} {a})?)"


def _ascii_shapes() -> List[Tuple[int, int]]:
    return list(HOSTNAME_SHAPES)


@lru_cache(maxsize=1)
def idn_hostname_rules(prefix: str = "idn") -> Tuple[Dict[str, str], str]:
    """The ``idn-hostname`` language as EBNF rules over the decoded string.

    Parameters
    ----------
    prefix : str
        Every rule name starts with it.

    Returns
    -------
    (dict, str)
        The rules (name -> body) and the name of the rule for a whole host name. No
        character of the language needs escaping in JSON, so the rules are also the
        JSON string content.

    """
    writer = RuleWriter(prefix)
    alphabet = _alphabet()
    labels: Dict[Tuple[str, int], List[str]] = {}
    for max_len, _ in _SHAPES:
        for bidi in ("free", "ltr", "rtl"):
            kinds = labels.setdefault(("free" if bidi == "free" else "bidi", max_len), [])
            if bidi != "rtl":
                kinds.append(ldh_label_ebnf(max_len, letter_first=bidi == "ltr"))
            for contextual in (False, True):
                budget = (max_len - 5) // 8 if contextual else max_len
                start = _START._replace(cost=0 if contextual else 5)
                name = f"{bidi}{max_len}{'x' if contextual else ''}"
                root = writer.automaton(
                    name,
                    alphabet,
                    start,
                    lambda s, y, b=bidi, c=contextual, n=budget: _label_step(
                        s, y, bidi=b, contextual=c, budget=n
                    ),
                    lambda s, b=bidi: _label_accepting(s, bidi=b),
                )
                if root is not None:
                    kinds.append(root)
    names = []
    for (reading, max_len), kinds in labels.items():
        label = writer.add(f"{reading}{max_len}", " | ".join(kinds))
        most = dict(_SHAPES)[max_len]
        names.append(f"{label} ({SEPARATORS} {label}){{0,{most - 1}}}")
    for max_len, most in _ascii_shapes():
        label = ldh_label_ebnf(max_len)
        names.append(f"{label} ({SEPARATORS} {label}){{0,{most - 1}}}")
    root = writer.add("name", " | ".join(f"({n})" for n in names))
    return writer.rules, root
