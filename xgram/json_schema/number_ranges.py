"""Small deterministic automata over JSON number texts, and their EBNF rendering.

This is the machinery behind :mod:`xgram.json_schema.numbers`. Every numeric keyword
becomes a complete DFA over the characters a number can contain; the keywords of one
schema are then intersected, minimised and printed as EBNF. Working with automata
rather than hand-built regular expressions is what keeps the result exact: intersection
(``minimum`` and ``maximum`` and ``multipleOf`` at once) and complement (``x <= c`` is
"not ``x > c``") are mechanical, so each keyword needs one obviously correct automaton
and no case analysis of how keywords interact.

A constraint automaton only has to be right on texts that are valid JSON numbers: it is
always intersected with the syntax automaton, so what it does on other texts is free.

The printer turns each state into an alternation over its outgoing character classes.
States reached from one place only are inlined into their parent, so a range such as
``[0, 255]`` prints as one nested expression; states reached from several places (and
every cycle entry) become helper rules, which keeps the output linear in the automaton.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Hashable, Optional

SYMBOLS = "0123456789.-+eE"
"""The alphabet: everything a JSON number text can contain."""

_DIGITS = "0123456789"
_INDEX = {c: i for i, c in enumerate(SYMBOLS)}


class TooBig(Exception):
    """An automaton construction went past its state budget."""


@dataclass
class Dfa:
    """A complete DFA over :data:`SYMBOLS`; state 0 is the start state.

    ``trans[s][i]`` is the successor of state ``s`` on ``SYMBOLS[i]``.
    """

    trans: list[list[int]]
    accept: list[bool]

    def is_empty(self) -> bool:
        """Whether the language is empty (every state is reachable by construction)."""
        return not any(self.accept)


def build(
    start: Hashable,
    step: Callable[[Hashable, str], Optional[Hashable]],
    accepting: Callable[[Hashable], bool],
    limit: int = 1_000_000,
) -> Dfa:
    """Explore the automaton given by ``step`` from ``start``; ``None`` is the dead state."""
    index: dict[Hashable, int] = {start: 0}
    keys: list[Hashable] = [start]
    trans: list[list[int]] = []
    while len(trans) < len(keys):
        key = keys[len(trans)]
        row = []
        for c in SYMBOLS:
            nxt = None if key is None else step(key, c)
            j = index.get(nxt)
            if j is None:
                j = index[nxt] = len(keys)
                keys.append(nxt)
                if len(keys) > limit:
                    raise TooBig
            row.append(j)
        trans.append(row)
    return Dfa(trans, [k is not None and accepting(k) for k in keys])


TRUE = Dfa([[0] * len(SYMBOLS)], [True])
FALSE = Dfa([[0] * len(SYMBOLS)], [False])


def complement(d: Dfa) -> Dfa:
    """The complement (over all texts, which the syntax intersection then restricts)."""
    return Dfa(d.trans, [not a for a in d.accept])


def intersect(a: Dfa, b: Dfa, limit: int = 1_000_000) -> Dfa:
    """The product automaton, restricted to reachable pairs."""
    ta, tb = a.trans, b.trans
    return build(
        (0, 0),
        lambda k, c: (ta[k[0]][_INDEX[c]], tb[k[1]][_INDEX[c]]),
        lambda k: a.accept[k[0]] and b.accept[k[1]],
        limit,
    )


def signed(pos: Dfa, neg: Dfa) -> Dfa:
    """Texts ``t`` in ``pos`` not starting with '-', and texts ``"-" t`` with ``t`` in ``neg``."""
    n = len(pos.trans)
    start = [1 + t for t in pos.trans[0]]
    start[_INDEX["-"]] = 1 + n
    trans = [start] + [[1 + t for t in row] for row in pos.trans]
    trans += [[1 + n + t for t in row] for row in neg.trans]
    return Dfa(trans, [pos.accept[0]] + pos.accept + neg.accept)


def minimize(d: Dfa) -> Dfa:
    """Hopcroft partition refinement, then canonical breadth-first numbering.

    Equal languages give identical tables, which the printer uses to spot a sign-symmetric
    number.
    """
    n, sigma = len(d.trans), len(SYMBOLS)
    inverse: list[dict[int, list[int]]] = [{} for _ in range(sigma)]
    for s, row in enumerate(d.trans):
        for a, t in enumerate(row):
            inverse[a].setdefault(t, []).append(s)
    blocks = [
        b
        for b in ({s for s in range(n) if d.accept[s]}, {s for s in range(n) if not d.accept[s]})
        if b
    ]
    block_of = [0] * n
    for i, b in enumerate(blocks):
        for s in b:
            block_of[s] = i
    work = list(range(len(blocks)))
    waiting = set(work)
    while work:
        splitter = list(blocks[work[-1]])
        waiting.discard(work.pop())
        for a in range(sigma):
            touched: dict[int, list[int]] = {}
            for t in splitter:
                for s in inverse[a].get(t, ()):
                    touched.setdefault(block_of[s], []).append(s)
            for y, members in touched.items():
                if len(members) == len(blocks[y]):
                    continue
                part = set(members)
                blocks[y] -= part
                blocks.append(part)
                for s in part:
                    block_of[s] = len(blocks) - 1
                if y in waiting or len(part) <= len(blocks[y]):
                    new = len(blocks) - 1
                else:
                    new = y
                work.append(new)
                waiting.add(new)
    rep = {c: next(iter(b)) for c, b in enumerate(blocks)}
    return build(
        block_of[0],
        lambda c, sym: block_of[d.trans[rep[c]][_INDEX[sym]]],
        lambda c: d.accept[rep[c]],
    )


# --------------------------------------------------------------------------- automata


def syntax(*, integer: bool, exponent: bool, fraction: bool = True) -> Dfa:
    """RFC 8259 number syntax; integer mode allows only zero fraction digits.

    With ``exponent`` an exponent part is allowed; in integer mode its sign can only be
    '+', so every accepted text has an integral value. Without ``fraction`` no
    fraction part is allowed (draft 4 integers).
    """
    frac = ("0" if integer else _DIGITS) if fraction else ""
    exp_signs = "+" if integer else "+-"

    def step(s: str, c: str) -> Optional[str]:
        if s == "S" and c == "-":
            return "M"
        if s in "SM" and c in _DIGITS:
            return "Z" if c == "0" else "N"
        if s == "N" and c in _DIGITS:
            return "N"
        if s in "ZN" and c == ".":
            return "P"
        if s in "PF" and c in frac:
            return "F"
        if exponent and s in "ZNF" and c in "eE":
            return "E"
        if s == "E" and c in exp_signs:
            return "X"
        if s in "EXD" and c in _DIGITS:
            return "D"
        return None

    return build("S", step, lambda s: s in "ZNFD")


def split_digits(c) -> tuple[str, str]:
    """Integer digits (no leading zeros, "0" below 1) and fraction digits (no trailing zeros)."""
    text = format(c, "f")
    whole, _, frac = text.partition(".")
    return whole.lstrip("0") or "0", frac.rstrip("0")


def magnitude_ge(c, strict: bool) -> Dfa:
    """Unsigned texts whose value is ``>= c`` (``> c`` if strict), for a Decimal ``c >= 0``.

    For ``c == 0`` the automaton is also right on texts with an exponent (the mantissa
    decides); for ``c > 0`` exponent texts are rejected.
    """
    if c == 0:
        if not strict:
            return TRUE
        return build(
            "zero",
            lambda s, ch: "pos" if s == "pos" or ch in "123456789" else (None if ch in "eE" else s),
            lambda s: s == "pos",
        )
    ci, cf = split_digits(c)

    def step(s, ch):
        if s == "T":
            return "T"
        if s[0] == "I":  # integer part: digits read, comparison with ci[:n]
            _, n, cmp = s
            if ch in _DIGITS:
                if n == len(ci):
                    return "T"  # more digits than ci: larger
                return ("I", n + 1, cmp or (ch > ci[n]) - (ch < ci[n]))
            if ch == "." and n == len(ci):
                return {1: "T", -1: None, 0: ("D", 0)}[cmp]
            return None
        j = s[1]  # fraction part, equal so far, j digits of cf matched
        if ch not in _DIGITS:
            return None
        ref = cf[j] if j < len(cf) else "0"
        if ch > ref:
            return "T"
        if ch < ref:
            return None
        return ("D", min(j + 1, len(cf)))

    def accepting(s) -> bool:
        if s == "T":
            return True
        if s[0] == "I":
            return s[1] == len(ci) and (s[2] == 1 or (s[2] == 0 and not cf and not strict))
        return s[1] == len(cf) and not strict

    return build(("I", 0, 0), step, accepting)


def value_ge(c, strict: bool) -> Dfa:
    """Signed texts whose value is ``>= c`` (``> c`` if strict), for any Decimal ``c``."""
    if c > 0:
        return signed(magnitude_ge(c, strict), FALSE)
    if c == 0:
        if strict:
            return signed(magnitude_ge(c, True), FALSE)
        return signed(TRUE, complement(magnitude_ge(c, True)))
    # -m >= c  <=>  m <= -c  <=>  not (m > -c)
    return signed(TRUE, complement(magnitude_ge(c.copy_negate(), not strict)))


def value_le(c, strict: bool) -> Dfa:
    """Signed texts whose value is ``<= c`` (``< c`` if strict): not ``> c`` (not ``>= c``)."""
    return complement(value_ge(c, not strict))


def multiple_of(q: int, t: int, s: int, limit: int) -> Dfa:
    """Texts without exponent whose value times ``10**s`` is a multiple of ``q * 10**t``.

    ``t > 0`` only with ``s == 0`` (a normalised ``multipleOf`` with a fraction has no
    factor 10). The state is ``(a, z, nz)``: ``z`` counts the trailing zeros of the
    integer digits up to ``t``, ``a`` is the digits before them mod ``q``, ``nz`` whether
    a non-zero digit was read; the ``10**t`` factor then costs ``t`` states, not a
    remainder mod ``10**t``. The first ``s`` fraction digits count, later ones must be
    zeros. The sign is ignored.
    """

    def int_ok(a: int, z: int, nz: bool) -> bool:
        return not nz or (z == t and a * pow(10, s, q) % q == 0)

    def step(st, ch):
        if st[0] == "i":
            _, a, z, nz = st
            if ch == "0":
                return ("i", a, z + 1, nz) if z < t else ("i", a * 10 % q, z, nz)
            if ch in _DIGITS:
                return ("i", (a * pow(10, z + 1, q) + int(ch)) % q, 0, True)
            if ch == ".":
                return ("f", a, 0) if t == 0 else ("z", int_ok(a, z, nz))
            return st if ch == "-" else None
        if ch not in _DIGITS:
            return None
        if st[0] == "f" and st[2] < s:
            return ("f", (10 * st[1] + int(ch)) % q, st[2] + 1)
        return st if ch == "0" else None

    def accepting(st) -> bool:
        if st[0] == "i":
            return int_ok(*st[1:])
        if st[0] == "z":
            return st[1]
        return st[1] * pow(10, s - st[2], q) % q == 0

    return build(("i", 0, 0, False), step, accepting, limit)


def value_set(values) -> Dfa:
    """Texts without exponent whose value is in a finite set of Decimals.

    States are the text read so far while it is a prefix of some canonical spelling, then
    two shared states for the tail of zeros a longer spelling of a member may have.
    """
    from decimal import Decimal

    members = set(values)
    canon: dict[bool, set[str]] = {False: set(), True: set()}
    for v in members:
        ci, cf = split_digits(v.copy_abs())
        text = ci + ("." + cf if cf else "")
        if v >= 0:
            canon[False].add(text)
        if v <= 0:
            canon[True].add(text)
    prefixes = {
        (neg, t[:i]) for neg, texts in canon.items() for t in texts for i in range(len(t) + 1)
    }

    def value(neg: bool, t: str):
        return Decimal(t).copy_negate() if neg else Decimal(t)

    def step(st, ch):
        if st in ("dot", "zeros"):
            return "zeros" if ch == "0" else None
        neg, t = st
        if ch == "-" and st == (False, "") and (True, "") in prefixes:
            return (True, "")
        if (neg, t + ch) in prefixes:
            return (neg, t + ch)
        if t and t[-1] != "." and value(neg, t) in members:
            if ch == "." and "." not in t:
                return "dot"
            if ch == "0" and "." in t:
                return "zeros"
        return None

    def accepting(st) -> bool:
        if st in ("dot", "zeros"):
            return st == "zeros"
        neg, t = st
        return bool(t) and t[-1] != "." and value(neg, t) in members

    return build((False, ""), step, accepting)


# --------------------------------------------------------------------------- printing

_INLINE_DEPTH = 24
_ATOM = re.compile(r'\[[^\]]*\]|"[^"]*"|[A-Za-z0-9_-]+')


def _group(text: str) -> str:
    """Parenthesise an alternation so that it can sit in a sequence."""
    return f"({text})" if "|" in text else text


def _char_class(symbols: list[str]) -> str:
    if len(symbols) == 1:
        return '"' + symbols[0] + '"'
    if symbols == list(_DIGITS):
        return "[0-9]"
    parts = []
    i = 0
    while i < len(symbols):
        j = i
        while (
            j + 1 < len(symbols)
            and symbols[j + 1] in _DIGITS
            and symbols[j] in _DIGITS
            and int(symbols[j + 1]) == int(symbols[j]) + 1
        ):
            j += 1
        run = symbols[i : j + 1]
        parts.append(run[0] + "-" + run[-1] if len(run) > 2 else "".join(run))
        i = j + 1
    return "[" + "".join(parts).replace("+-", "+\\-") + "]"


class _DfaPrinter:
    """Spells the states of a DFA: small single-use states inline, the rest as rules.

    Methods, not closures: two closures naming each other form a reference cycle,
    which leaves everything they reach to the cycle collector.
    """

    def __init__(
        self, d: Dfa, prefix: str, edges: list[list[tuple[str, int]]], indeg: list[int]
    ) -> None:
        self.d = d
        self.prefix = prefix
        self.edges = edges
        self.indeg = indeg
        self.leaf = [all(t == s for _, t in edges[s]) for s in range(len(edges))]
        self.names: dict[int, str] = {}
        self.queue: list[int] = []

    def ref(self, t: int, depth: int) -> str:
        """State ``t`` inline, or the name of its rule (queued for printing)."""
        if self.leaf[t] or (self.indeg[t] < 2 and t != 0 and depth < _INLINE_DEPTH):
            return self.body(t, depth + 1)
        if t not in self.names:
            self.names[t] = f"{self.prefix}_{len(self.names) + 1}"
            self.queue.append(t)
        return self.names[t]

    def body(self, s: int, depth: int) -> str:
        """The expression for the strings accepted from state ``s``."""
        loop = ""
        alts = []
        for cls, t in self.edges[s]:
            if t == s:
                loop = cls + "*"
                continue
            tail = self.ref(t, depth)
            if tail == cls + "*" or tail.startswith(cls + "* "):
                alts.append(cls + "+" + tail[len(cls) + 1 :])  # "x x*" is "x+"
            elif tail:
                alts.append(cls + " " + _group(tail))
            else:
                alts.append(cls)
        text = " | ".join(alts)
        if alts and self.d.accept[s]:
            text = text + "?" if _ATOM.fullmatch(text) else f"({text})?"
        if loop:
            text = loop + (" " + _group(text) if text else "")
        return text


def to_ebnf(d: Dfa, prefix: str) -> tuple[str, list[tuple[str, str]]]:
    """Print a minimised, non-empty DFA as an expression plus helper rules."""
    n = len(d.trans)
    preds: list[list[int]] = [[] for _ in range(n)]
    for s, row in enumerate(d.trans):
        for t in set(row):
            preds[t].append(s)
    live = list(d.accept)
    stack = [s for s in range(n) if live[s]]
    while stack:
        for s in preds[stack.pop()]:
            if not live[s]:
                live[s] = True
                stack.append(s)
    # A sign-symmetric number: "-" leads to a state that behaves like the start minus "-";
    # then the start is printed as '"-"?' before that state and its own edges don't count.
    minus = _INDEX["-"]
    neg = d.trans[0][minus]
    same = [t for i, t in enumerate(d.trans[0]) if i != minus] == [
        t for i, t in enumerate(d.trans[neg]) if i != minus
    ]
    symmetric = same and neg != 0 and live[neg] and d.accept[0] == d.accept[neg]
    symmetric = symmetric and not live[d.trans[neg][minus]]
    edges: list[list[tuple[str, int]]] = []
    indeg = [0] * n
    for s in range(n):
        groups: dict[int, list[str]] = {}
        for i, t in enumerate(d.trans[s]):
            if live[s] and live[t]:
                groups.setdefault(t, []).append(SYMBOLS[i])
        edges.append([(_char_class(syms), t) for t, syms in groups.items()])
        for _, t in edges[s]:
            if t != s and not (symmetric and s == 0):
                indeg[t] += 1
    printer = _DfaPrinter(d, prefix, edges, indeg)
    if symmetric:
        expr = '"-"? ' + _group(printer.ref(neg, 0))
    else:
        expr = printer.body(0, 0)
    bodies: list[tuple[str, str]] = []
    while printer.queue:
        s = printer.queue.pop(0)
        bodies.append((printer.names[s], printer.body(s, 0)))
    return f"({expr})", bodies
