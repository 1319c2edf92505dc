"""A tiny grammar-combinator DSL for the differential tests.

One grammar, written once as Python objects, renders to

* xgram EBNF text (``GrammarSpec.to_ebnf``),
* a lark grammar for its Earley parser (``GrammarSpec.to_lark``),
* a pattern for the ``regex`` package when the grammar is regular
  (``GrammarSpec.to_regex``, which also supports lookahead assertions),
* the grammar of all prefixes of its language (``GrammarSpec.prefix_spec``),
  which, rendered for lark, is an oracle for ``accepts_prefix``,

and provides a hypothesis strategy of random derivations (``derivations``).
Equivalence of the renderings holds by construction, so any disagreement between
xgram and lark/regex on the same input is a disagreement about one language.

Node types: ``Lit`` (a string), ``Cls`` (a character class, possibly negated),
``AnyChar`` (``.``), ``Seq``, ``Alt``, ``Rep`` (``{lo,hi}``, ``hi=None`` for
unbounded) and ``Ref`` (a rule reference). ``EMPTY`` is the empty sequence.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple, Union

import hypothesis.strategies as st
import lark
import regex

MAX_CP = 0x10FFFF
SURROGATES = (0xD800, 0xDFFF)


# ---------------------------------------------------------------------------
# Nodes
# ---------------------------------------------------------------------------
class Node:
    """Base class of grammar expressions."""


@dataclass(frozen=True)
class Lit(Node):
    text: str


@dataclass(frozen=True)
class Cls(Node):
    """A character class: the listed ranges, or their complement if ``negated``."""

    ranges: Tuple[Tuple[int, int], ...]
    negated: bool = False

    def contains(self, ch: str) -> bool:
        cp = ord(ch)
        inside = any(lo <= cp <= hi for lo, hi in self.ranges)
        return inside != self.negated


@dataclass(frozen=True)
class AnyChar(Node):
    pass


@dataclass(frozen=True)
class Seq(Node):
    items: Tuple[Node, ...]


@dataclass(frozen=True)
class Alt(Node):
    alts: Tuple[Node, ...]


@dataclass(frozen=True)
class Rep(Node):
    item: Node
    lo: int
    hi: Optional[int]  # None: unbounded


@dataclass(frozen=True)
class Ref(Node):
    name: str


EMPTY = Seq(())
NodeLike = Union[Node, str]


def _node(x: NodeLike) -> Node:
    return Lit(x) if isinstance(x, str) else x


def lit(text: str) -> Lit:
    return Lit(text)


def _parse_ranges(spec: str) -> Tuple[Tuple[int, int], ...]:
    """``"a-z0-9_"`` -> ranges. A ``-`` at either end is literal."""
    out = []
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            out.append((ord(spec[i]), ord(spec[i + 2])))
            i += 3
        else:
            out.append((ord(spec[i]), ord(spec[i])))
            i += 1
    return tuple(out)


def cls(spec: str) -> Cls:
    """A class from a compact spec such as ``"a-zA-Z_"``."""
    return Cls(_parse_ranges(spec))


def chars(members: str) -> Cls:
    """A class of exactly the given characters (no ranges)."""
    return Cls(tuple((ord(c), ord(c)) for c in members))


def ncls(spec: str) -> Cls:
    """A negated class (``[^...]``) from a compact spec."""
    return Cls(_parse_ranges(spec), negated=True)


def crange(lo: int, hi: int) -> Cls:
    return Cls(((lo, hi),))


ANY = AnyChar()


def seq(*items: NodeLike) -> Node:
    nodes = tuple(_node(x) for x in items)
    return nodes[0] if len(nodes) == 1 else Seq(nodes)


def alt(*alts: NodeLike) -> Node:
    return Alt(tuple(_node(x) for x in alts))


def rep(item: NodeLike, lo: int, hi: Optional[int]) -> Rep:
    return Rep(_node(item), lo, hi)


def opt(item: NodeLike) -> Rep:
    return rep(item, 0, 1)


def star(item: NodeLike) -> Rep:
    return rep(item, 0, None)


def plus(item: NodeLike) -> Rep:
    return rep(item, 1, None)


def ref(name: str) -> Ref:
    return Ref(name)


# ---------------------------------------------------------------------------
# Escaping helpers
# ---------------------------------------------------------------------------
_EBNF_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\", '"': '\\"'}


def _ebnf_char(ch: str, *, in_class: bool, escape_unicode: bool) -> str:
    cp = ord(ch)
    if ch in _EBNF_NAMED:
        return _EBNF_NAMED[ch]
    if in_class and ch in "]-^[":
        return "\\" + ch
    if cp < 0x20 or cp == 0x7F:
        return "\\x%02X" % cp
    if cp < 0x80:
        return ch
    if escape_unicode or cp in (0x85, 0x2028, 0x2029) or 0x80 <= cp < 0xA0:
        return "\\u%04X" % cp if cp <= 0xFFFF else "\\U%08X" % cp
    return ch


def _lark_char(cp: int) -> str:
    """One code point inside a lark ``/regex/`` literal (see lark's _fix_escaping)."""
    ch = chr(cp)
    if ch.isascii() and ch.isalnum():
        return ch
    if ch.isascii() and ch in string.punctuation and ch not in "\"'":
        return "\\" + ch
    return "\\u%04x" % cp if cp <= 0xFFFF else "\\U%08x" % cp


def _re_char(cp: int) -> str:
    return "\\U%08x" % cp


def _lark_name(name: str) -> str:
    return "r_" + name.lower().replace("-", "_")


# ---------------------------------------------------------------------------
# Grammar specs
# ---------------------------------------------------------------------------
@dataclass
class GrammarSpec:
    """A named grammar: rules (name -> node), a root, optional lookaheads.

    ``ebnf`` overrides the rendered EBNF with hand-written text (the DSL then
    serves as the independent transcription for lark/regex and for generation).
    ``style`` varies the EBNF rendering: 0 uses ``* + ?`` and raw UTF-8, 1 uses
    ``{m,n}`` forms and ``\\u`` escapes.
    """

    name: str
    rules: Dict[str, Node]
    root: str = "root"
    lookaheads: Dict[str, Node] = field(default_factory=dict)
    ebnf: Optional[str] = None
    style: int = 0
    max_depth: int = 6
    unbounded_extra: int = 4  # extra iterations drawn for `*`, `+`, `{m,}`
    extra_alphabet: str = ""
    lark_ok: bool = True  # False: too slow for lark (use regex only)
    max_len: int = 400  # derived strings longer than this are cut (then mutated)

    def __post_init__(self) -> None:
        for name in list(self.rules):
            self.rules[name] = _node(self.rules[name])
        for name in list(self.lookaheads):
            self.lookaheads[name] = _node(self.lookaheads[name])
        missing = {r.name for r in self._all_refs()} - set(self.rules)
        if missing:
            raise ValueError(f"{self.name}: undefined rules {sorted(missing)}")
        self._heights = self._min_heights()

    # -- structure -------------------------------------------------------------
    def _walk(self, node: Node):
        yield node
        if isinstance(node, Seq):
            for x in node.items:
                yield from self._walk(x)
        elif isinstance(node, Alt):
            for x in node.alts:
                yield from self._walk(x)
        elif isinstance(node, Rep):
            yield from self._walk(node.item)

    def _all_refs(self):
        for body in list(self.rules.values()) + list(self.lookaheads.values()):
            for n in self._walk(body):
                if isinstance(n, Ref):
                    yield n

    def is_regular(self) -> bool:
        """No rule reaches itself (so references can be inlined into a regex)."""
        deps = {
            name: {n.name for n in self._walk(body) if isinstance(n, Ref)}
            for name, body in self.rules.items()
        }
        for name, la in self.lookaheads.items():
            deps[name] |= {n.name for n in self._walk(la) if isinstance(n, Ref)}

        state: Dict[str, int] = {}

        def cyclic(n: str) -> bool:
            if state.get(n) == 1:
                return True
            if state.get(n) == 2:
                return False
            state[n] = 1
            if any(cyclic(m) for m in deps[n]):
                return True
            state[n] = 2
            return False

        return not any(cyclic(n) for n in deps)

    @property
    def has_lookahead(self) -> bool:
        return bool(self.lookaheads)

    def alphabet(self) -> str:
        """Characters worth inserting in mutations: literals, class edges and some extras."""
        chars = set(self.extra_alphabet) | set("a0 \n\u00e9\u20ac\U0001f600")
        for body in list(self.rules.values()) + list(self.lookaheads.values()):
            for n in self._walk(body):
                if isinstance(n, Lit):
                    chars |= set(n.text)
                elif isinstance(n, Cls):
                    for lo, hi in n.ranges:
                        for cp in (lo - 1, lo, (lo + hi) // 2, hi, hi + 1):
                            if 0 <= cp <= MAX_CP and not SURROGATES[0] <= cp <= SURROGATES[1]:
                                chars.add(chr(cp))
        return "".join(sorted(chars))

    # -- minimal derivation heights (for bounded random derivations) ----------
    def _min_heights(self) -> Dict[str, float]:
        h = {name: float("inf") for name in self.rules}
        changed = True
        while changed:
            changed = False
            for name, body in self.rules.items():
                v = 1 + self._height(body, h)
                if v < h[name]:
                    h[name] = v
                    changed = True
        bad = [n for n, v in h.items() if v == float("inf")]
        if bad:
            raise ValueError(f"{self.name}: rules derive no finite string: {bad}")
        return h

    def _height(self, node: Node, h: Dict[str, float]) -> float:
        if isinstance(node, (Lit, Cls, AnyChar)):
            return 0
        if isinstance(node, Seq):
            return max((self._height(x, h) for x in node.items), default=0)
        if isinstance(node, Alt):
            return min(self._height(x, h) for x in node.alts)
        if isinstance(node, Rep):
            return 0 if node.lo == 0 else self._height(node.item, h)
        if isinstance(node, Ref):
            return h[node.name]
        raise TypeError(node)

    # -- EBNF -----------------------------------------------------------------
    def to_ebnf(self) -> str:
        if self.ebnf is not None:
            return self.ebnf
        lines = []
        for name, body in self.rules.items():
            text = f"{name} ::= {self._ebnf(body, top=True)}"
            if name in self.lookaheads:
                text += f" (= {self._ebnf(self.lookaheads[name], top=True)})"
            lines.append(text)
        return "\n".join(lines) + "\n"

    def _ebnf(self, node: Node, top: bool = False) -> str:
        esc = self.style == 1
        if isinstance(node, Lit):
            return (
                '"'
                + "".join(_ebnf_char(c, in_class=False, escape_unicode=esc) for c in node.text)
                + '"'
            )
        if isinstance(node, Cls):
            if node.negated and not node.ranges:
                return "[^]"
            parts = []
            for lo, hi in node.ranges:
                a = _ebnf_char(chr(lo), in_class=True, escape_unicode=esc)
                if lo == hi:
                    parts.append(a)
                else:
                    parts.append(a + "-" + _ebnf_char(chr(hi), in_class=True, escape_unicode=esc))
            return "[" + ("^" if node.negated else "") + "".join(parts) + "]"
        if isinstance(node, AnyChar):
            return "[^]" if esc else "."
        if isinstance(node, Seq):
            if not node.items:
                return "()" if esc else '""'
            inner = " ".join(self._ebnf(x) for x in node.items)
            return inner if top or len(node.items) == 1 else "(" + inner + ")"
        if isinstance(node, Alt):
            # An empty alternative is written as nothing: `ws ::= | " "`.
            inner = " | ".join("" if x == EMPTY else self._ebnf(x, top=True) for x in node.alts)
            return inner.strip() if top else "(" + inner + ")"
        if isinstance(node, Rep):
            item = self._ebnf(node.item)
            if isinstance(node.item, (Seq, Alt)) and not item.startswith("("):
                item = "(" + item + ")"
            lo, hi = node.lo, node.hi
            if self.style == 0 and (lo, hi) == (0, None):
                q = "*"
            elif self.style == 0 and (lo, hi) == (1, None):
                q = "+"
            elif self.style == 0 and (lo, hi) == (0, 1):
                q = "?"
            elif hi is None:
                q = "{%d,}" % lo
            elif lo == hi:
                q = "{%d}" % lo
            else:
                q = "{%d,%d}" % (lo, hi)
            return item + q
        if isinstance(node, Ref):
            return node.name
        raise TypeError(node)

    # -- lark -----------------------------------------------------------------
    def to_lark(self) -> str:
        if self.has_lookahead:
            raise ValueError(f"{self.name}: lark has no lookahead assertions")
        self._lark_helpers: List[str] = []
        lines = [f"start: {_lark_name(self.root)}"]
        for name, body in self.rules.items():
            lines.append(f"{_lark_name(name)}: {self._lark(body, top=True)}")
        return "\n".join(lines + self._lark_helpers) + "\n"

    @staticmethod
    def _is_empty(node: Node) -> bool:
        if isinstance(node, Lit):
            return node.text == ""
        if isinstance(node, Seq):
            return all(GrammarSpec._is_empty(x) for x in node.items)
        if isinstance(node, Rep):
            return node.hi == 0 or GrammarSpec._is_empty(node.item)
        if isinstance(node, Alt):
            return all(GrammarSpec._is_empty(x) for x in node.alts)
        return False

    def _lark(self, node: Node, top: bool = False) -> str:
        """Lark text for `node`; "" for the empty string (callers skip it)."""
        if self._is_empty(node):
            return ""
        if isinstance(node, Lit):
            return "/" + "".join(_lark_char(ord(c)) for c in node.text) + "/"
        if isinstance(node, Cls):
            if node.negated and not node.ranges:
                return "/(?s:.)/"
            parts = []
            for lo, hi in node.ranges:
                parts.append(_lark_char(lo) if lo == hi else _lark_char(lo) + "-" + _lark_char(hi))
            return "/[" + ("^" if node.negated else "") + "".join(parts) + "]/"
        if isinstance(node, AnyChar):
            return "/(?s:.)/"
        if isinstance(node, Seq):
            parts = [p for p in (self._lark(x) for x in node.items) if p]
            return " ".join(parts) if top or len(parts) == 1 else "(" + " ".join(parts) + ")"
        if isinstance(node, Alt):
            parts = [self._lark(x, top=not isinstance(x, Alt)) for x in node.alts]
            nonempty = [p for p in parts if p]
            if len(nonempty) < len(parts):
                if top:
                    return " | ".join(nonempty) + " | "
                return "(" + " | ".join(nonempty) + ")?"
            return " | ".join(parts) if top else "(" + " | ".join(parts) + ")"
        if isinstance(node, Rep):
            item = self._lark(node.item)
            if " " in item and not (item.startswith("(") and item.endswith(")")):
                item = "(" + item + ")"
            if isinstance(node.item, Alt) and not item.startswith("("):
                item = "(" + item + ")"
            if item.endswith("?") or item.endswith("*") or item.endswith("+"):
                item = "(" + item + ")"
            lo, hi = node.lo, node.hi
            if (lo, hi) == (0, None):
                return item + "*"
            if (lo, hi) == (1, None):
                return item + "+"
            if (lo, hi) == (0, 1):
                return item + "?"
            if hi is None:
                return f"{item} ~ {lo} {item}*"
            if lo == hi:
                return f"{item} ~ {lo}"
            # x{lo,hi} = x ~ lo, then a chain of hi-lo optional copies in helper
            # rules (lark's own `~ lo..hi` makes hi-lo+1 alternatives of up to hi
            # items, which makes its Earley parser very slow).
            base = f"rep{len(self._lark_helpers)}x_"
            for k in range(1, hi - lo + 1):
                tail = f" {base}{k - 1}" if k > 1 else ""
                self._lark_helpers.append(f"{base}{k}: {item}{tail} | ")
            chain = f"{base}{hi - lo}"
            return chain if lo == 0 else f"{item} ~ {lo} {chain}"
        if isinstance(node, Ref):
            return _lark_name(node.name)
        raise TypeError(node)

    # -- regex ----------------------------------------------------------------
    def to_regex(self) -> str:
        if not self.is_regular():
            raise ValueError(f"{self.name}: not regular")
        return self._re(Ref(self.root))

    def _re(self, node: Node) -> str:
        if isinstance(node, Lit):
            return "".join(_re_char(ord(c)) for c in node.text)
        if isinstance(node, Cls):
            if node.negated and not node.ranges:
                return "(?s:.)"
            parts = []
            for lo, hi in node.ranges:
                parts.append(_re_char(lo) if lo == hi else _re_char(lo) + "-" + _re_char(hi))
            return "[" + ("^" if node.negated else "") + "".join(parts) + "]"
        if isinstance(node, AnyChar):
            return "(?s:.)"
        if isinstance(node, Seq):
            return "".join("(?:" + self._re(x) + ")" for x in node.items)
        if isinstance(node, Alt):
            return "(?:" + "|".join(self._re(x) for x in node.alts) + ")"
        if isinstance(node, Rep):
            hi = "" if node.hi is None else str(node.hi)
            return "(?:" + self._re(node.item) + "){%d,%s}" % (node.lo, hi)
        if isinstance(node, Ref):
            body = "(?:" + self._re(self.rules[node.name]) + ")"
            if node.name in self.lookaheads:
                body = "(?:" + body + "(?=" + self._re(self.lookaheads[node.name]) + "))"
            return body
        raise TypeError(node)

    # -- prefix grammar ---------------------------------------------------------
    def prefix_spec(self) -> GrammarSpec:
        """A grammar for {p : p is a prefix of some string of this grammar}.

        Assumes every rule derives some string (checked in __post_init__).
        Rule A keeps its definition; A__pfx generates the prefixes of A.
        """
        if self.has_lookahead:
            raise ValueError(f"{self.name}: no prefix grammar with lookaheads")
        rules: Dict[str, Node] = dict(self.rules)
        for name, body in self.rules.items():
            rules[name + "__pfx"] = _prefix(body)
        return GrammarSpec(self.name + "__pfx", rules, root=self.root + "__pfx")

    # -- random derivations -------------------------------------------------------
    def derivations(self, max_depth: Optional[int] = None) -> st.SearchStrategy[str]:
        depth_limit = self.max_depth if max_depth is None else max_depth
        spec = self

        @st.composite
        def strat(draw) -> str:
            out: List[str] = []
            spec._derive(draw, Ref(spec.root), 0, depth_limit, out)
            return "".join(out)[: spec.max_len]

        return strat()

    def _derive(self, draw, node: Node, depth: int, limit: int, out: List[str]) -> None:
        if isinstance(node, Lit):
            out.append(node.text)
        elif isinstance(node, (Cls, AnyChar)):
            out.append(draw(_class_chars(node)))
        elif isinstance(node, Seq):
            for x in node.items:
                self._derive(draw, x, depth, limit, out)
        elif isinstance(node, Alt):
            alts = list(node.alts)
            if depth >= limit:
                best = min(self._height(a, self._heights) for a in alts)
                alts = [a for a in alts if self._height(a, self._heights) == best]
            chosen = alts[0] if len(alts) == 1 else draw(st.sampled_from(alts))
            self._derive(draw, chosen, depth, limit, out)
        elif isinstance(node, Rep):
            if depth >= limit:
                count = node.lo
            else:
                hi = node.hi if node.hi is not None else node.lo + self.unbounded_extra
                count = draw(st.integers(node.lo, hi))
            for _ in range(count):
                self._derive(draw, node.item, depth, limit, out)
        elif isinstance(node, Ref):
            self._derive(draw, self.rules[node.name], depth + 1, limit, out)
        else:
            raise TypeError(node)


def _prefix(node: Node) -> Node:
    """Prefixes of the strings of `node` (including "" and the whole strings)."""
    if isinstance(node, Lit):
        return Alt(tuple(Lit(node.text[:i]) for i in range(len(node.text) + 1)))
    if isinstance(node, (Cls, AnyChar)):
        return Rep(node, 0, 1)
    if isinstance(node, Seq):
        if not node.items:
            return EMPTY
        alts = [Seq(node.items[:i] + (_prefix(node.items[i]),)) for i in range(len(node.items))]
        return Alt(tuple(alts))
    if isinstance(node, Alt):
        return Alt(tuple(_prefix(x) for x in node.alts))
    if isinstance(node, Rep):
        if node.hi == 0:
            return EMPTY
        hi = None if node.hi is None else node.hi - 1
        return Seq((Rep(node.item, 0, hi), _prefix(node.item)))
    if isinstance(node, Ref):
        return Ref(node.name + "__pfx")
    raise TypeError(node)


def _no_surrogate(cp: int) -> bool:
    return not SURROGATES[0] <= cp <= SURROGATES[1]


@functools.lru_cache(maxsize=None)
def _class_chars(node: Node) -> st.SearchStrategy[str]:
    """Characters of a class (no surrogates), with its edges drawn often."""
    if isinstance(node, Cls) and not node.negated:
        pieces = []
        edges = set()
        for lo, hi in node.ranges:
            pieces.append(st.integers(lo, hi).filter(_no_surrogate).map(chr))
            edges |= {lo, hi}
        edges = sorted(cp for cp in edges if _no_surrogate(cp))
        return st.one_of(st.sampled_from([chr(c) for c in edges]), *pieces)
    # Negated class or any char: everything outside the listed ranges.
    excluded = node.ranges if isinstance(node, Cls) else ()
    edges = set()
    for lo, hi in excluded:
        edges |= {lo - 1, hi + 1}
    edges |= {0, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, MAX_CP, ord("\n")}

    def allowed(ch: str) -> bool:
        cp = ord(ch)
        return _no_surrogate(cp) and not any(lo <= cp <= hi for lo, hi in excluded)

    edge_chars = [chr(c) for c in sorted(edges) if 0 <= c <= MAX_CP and allowed(chr(c))]
    base = st.one_of(
        st.characters(min_codepoint=0, max_codepoint=0x7F),
        st.characters(blacklist_categories=("Cs",)),
    ).filter(allowed)
    return st.one_of(st.sampled_from(edge_chars), base) if edge_chars else base


# ---------------------------------------------------------------------------
# Mutations
# ---------------------------------------------------------------------------
MUTATIONS = ("insert", "delete", "replace", "swap", "truncate", "duplicate", "delete_slice")


@st.composite
def mutated(draw, base: st.SearchStrategy[str], alphabet: str, max_mutations: int = 3) -> str:
    """A string from `base` with 1..max_mutations random edits."""
    s = draw(base)
    char = st.one_of(
        st.sampled_from(sorted(set(alphabet))), st.characters(blacklist_categories=("Cs",))
    )
    for _ in range(draw(st.integers(1, max_mutations))):
        op = draw(st.sampled_from(MUTATIONS))
        n = len(s)
        if op == "insert":
            i = draw(st.integers(0, n))
            s = s[:i] + draw(char) + s[i:]
        elif n == 0:
            continue
        elif op == "delete":
            i = draw(st.integers(0, n - 1))
            s = s[:i] + s[i + 1 :]
        elif op == "replace":
            i = draw(st.integers(0, n - 1))
            s = s[:i] + draw(char) + s[i + 1 :]
        elif op == "swap":
            if n < 2:
                continue
            i = draw(st.integers(0, n - 2))
            s = s[:i] + s[i + 1] + s[i] + s[i + 2 :]
        elif op == "truncate":
            s = s[: draw(st.integers(0, n - 1))]
        elif op == "duplicate":
            i = draw(st.integers(0, n - 1))
            j = draw(st.integers(i + 1, min(n, i + 16)))
            s = s[:j] + s[i:j] + s[j:]
        elif op == "delete_slice":
            i = draw(st.integers(0, n - 1))
            j = draw(st.integers(i + 1, min(n, i + 16)))
            s = s[:i] + s[j:]
    return s


@st.composite
def byte_mutated(draw, base: st.SearchStrategy[str], max_mutations: int = 3) -> bytes:
    """UTF-8 of a string from `base` with random byte-level edits (may break UTF-8)."""
    b = bytearray(draw(base).encode("utf-8"))
    interesting = [
        0x00,
        0x7F,
        0x80,
        0xBF,
        0xC0,
        0xC1,
        0xC2,
        0xDF,
        0xE0,
        0xED,
        0xEF,
        0xF0,
        0xF4,
        0xF5,
        0xFF,
        0xA0,
        0x9F,
        0x8F,
        0x90,
    ]
    byte = st.one_of(st.sampled_from(interesting), st.integers(0, 255))
    for _ in range(draw(st.integers(1, max_mutations))):
        op = draw(st.sampled_from(("insert", "delete", "replace", "truncate")))
        n = len(b)
        if op == "insert":
            i = draw(st.integers(0, n))
            b[i:i] = bytes([draw(byte)])
        elif n == 0:
            continue
        elif op == "delete":
            del b[draw(st.integers(0, n - 1))]
        elif op == "replace":
            b[draw(st.integers(0, n - 1))] = draw(byte)
        elif op == "truncate":
            del b[draw(st.integers(0, n - 1)) :]
    return bytes(b)


# ---------------------------------------------------------------------------
# Oracles
# ---------------------------------------------------------------------------
class LarkOracle:
    """Membership in a grammar's language, decided by lark's Earley parser."""

    def __init__(self, lark_text: str) -> None:
        self.text = lark_text
        self.parser = lark.Lark(lark_text, parser="earley", lexer="dynamic", ambiguity="resolve")

    @functools.lru_cache(maxsize=4096)
    def accepts(self, s: str) -> bool:
        try:
            self.parser.parse(s)
        except lark.exceptions.UnexpectedInput:
            return False
        return True


class RegexOracle:
    """Membership (and, without lookaheads, prefix viability) with the regex package."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.compiled = regex.compile(pattern)

    def accepts(self, s: str) -> bool:
        return self.compiled.fullmatch(s) is not None

    def accepts_prefix(self, s: str) -> bool:
        """Partial matching; with lookaheads it over-approximates (see the tests)."""
        return self.compiled.fullmatch(s, partial=True) is not None


class EndsOracle:
    """Membership by brute force, for any grammar, lookaheads included.

    For every rule R and position i it computes the set of positions j such that
    R derives s[i:j] (and, if R has a lookahead, s[j:] begins with a match of
    it), by iterating to a fixpoint (so left recursion is fine). Cubic-ish: for
    short inputs only. Independent of lark, regex and xgram.
    """

    def __init__(self, spec: GrammarSpec) -> None:
        self.spec = spec

    def accepts(self, s: str) -> bool:
        n = len(s)
        rules = self.spec.rules
        table: Dict[Tuple[str, int], frozenset] = {
            (r, i): frozenset() for r in rules for i in range(n + 1)
        }

        def ends(node: Node, i: int) -> frozenset:
            if isinstance(node, Lit):
                return (
                    frozenset([i + len(node.text)]) if s.startswith(node.text, i) else frozenset()
                )
            if isinstance(node, Cls):
                return frozenset([i + 1]) if i < n and node.contains(s[i]) else frozenset()
            if isinstance(node, AnyChar):
                return frozenset([i + 1]) if i < n else frozenset()
            if isinstance(node, Seq):
                cur = frozenset([i])
                for x in node.items:
                    cur = frozenset(j for p in cur for j in ends(x, p))
                    if not cur:
                        break
                return cur
            if isinstance(node, Alt):
                return frozenset(j for x in node.alts for j in ends(x, i))
            if isinstance(node, Rep):
                out = set()
                cur = frozenset([i])
                seen_levels = set()
                k = 0
                while True:
                    if k >= node.lo:
                        out |= cur
                    if (node.hi is not None and k >= node.hi) or not cur:
                        break
                    if k >= node.lo and cur in seen_levels:
                        break  # the sets repeat from here on
                    if k >= node.lo:
                        seen_levels.add(cur)
                    cur = frozenset(j for p in cur for j in ends(node.item, p))
                    k += 1
                return frozenset(out)
            if isinstance(node, Ref):
                return table[(node.name, i)]
            raise TypeError(node)

        changed = True
        while changed:
            changed = False
            for r, body in rules.items():
                la = self.spec.lookaheads.get(r)
                for i in range(n + 1):
                    new = ends(body, i)
                    if la is not None:
                        new = frozenset(j for j in new if ends(la, j))
                    if new != table[(r, i)]:
                        table[(r, i)] = new | table[(r, i)]
                        changed = True
        return n in table[(self.spec.root, 0)]
