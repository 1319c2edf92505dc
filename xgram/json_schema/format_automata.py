"""Small automata over code-point classes, written out as right-linear EBNF rules.

Some ``format`` languages are regular but are conjunctions of many independent rules
(the IDNA2008 rules of ``idn-hostname``: permitted code points, contextual rules, the
Bidi rule, NFC, a length budget). A regex cannot intersect, and an EBNF ``&`` is built
as a product over UTF-8 bytes, where every state of a length counter would carry its
own copy of the byte automaton of a class of 100,000 code points. Here the product is
taken over *classes* of code points instead (code points that every rule treats alike),
in Python, and each state becomes one rule::

    s7 ::= "" | c2 s8 | (c0 | c5) s9

whose class names (``c2``) are rules of their own: the byte automaton of a class is
compiled once and called from every state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Hashable, List, Optional, Sequence, Tuple, TypeVar

Range = Tuple[int, int]
Symbol = TypeVar("Symbol", bound=Hashable)
State = Hashable

#: The shapes a ``hostname`` may take, as (label length limit, label count limit) pairs,
#: each within 253 characters (see :mod:`.formats`); ``idn-hostname`` reuses them for
#: its all-ASCII names. Kept here, below both format modules, so that neither imports
#: the other for it.
HOSTNAME_SHAPES = ((63, 3), (62, 4), (22, 11), (9, 25), (4, 50), (1, 127))


def parse_ranges(packed: str) -> List[Range]:
    """Read a ``"lo-hi,cp,..."`` hexadecimal range string (the generated tables' form)."""
    out: List[Range] = []
    for item in filter(None, packed.split(",")):
        lo, _, hi = item.partition("-")
        out.append((int(lo, 16), int(hi or lo, 16)))
    return out


def ebnf_class(ranges: Sequence[Range]) -> str:
    """An EBNF character class for inclusive code-point ``ranges``.

    The class is written as JSON string content too: the callers' classes hold no
    character that JSON escapes (controls, quote, backslash), so each is spelled raw.
    """

    def one(cp: int) -> str:
        if 0x30 <= cp <= 0x39 or 0x41 <= cp <= 0x5A or 0x61 <= cp <= 0x7A:
            return chr(cp)
        return f"\\u{cp:04X}" if cp <= 0xFFFF else f"\\U{cp:08X}"

    parts = [one(lo) if lo == hi else f"{one(lo)}-{one(hi)}" for lo, hi in ranges]
    return "[" + "".join(parts) + "]"


def partition(
    sets: Dict[str, List[Range]], universe: List[Range], cuts: Sequence[int] = ()
) -> List[Tuple[int, int, frozenset]]:
    """Split ``universe`` into intervals over which membership in every set is constant.

    Parameters
    ----------
    sets : dict
        Named code-point sets.
    universe : list of (int, int)
        The code points to cover.
    cuts : sequence of int
        Extra boundaries: an interval never spans a cut (a cut starts a new interval).

    Returns
    -------
    list of (int, int, frozenset)
        ``(lo, hi, names)``: the inclusive interval and the names of the sets holding it.

    """
    universe_key = "\0universe"  # a name no caller uses
    events: Dict[int, List[Tuple[str, int]]] = {}
    for name, ranges in list(sets.items()) + [(universe_key, universe)]:
        for lo, hi in ranges:
            events.setdefault(lo, []).append((name, 1))
            events.setdefault(hi + 1, []).append((name, -1))
    bounds = sorted(set(events) | set(cuts))
    depth: Dict[str, int] = {}
    out: List[Tuple[int, int, frozenset]] = []
    for start, end in zip(bounds, bounds[1:]):
        for name, delta in events.get(start, ()):
            depth[name] = depth.get(name, 0) + delta
        if depth.get(universe_key, 0) > 0:
            names = frozenset(n for n, d in depth.items() if d > 0 and n != universe_key)
            out.append((start, end - 1, names))
    return out


@dataclass
class RuleWriter:
    """Collects EBNF rules under one name prefix, sharing class rules between automata."""

    prefix: str

    def __post_init__(self) -> None:
        self.rules: Dict[str, str] = {}
        self._class_names: Dict[str, str] = {}

    def class_rule(self, ranges: Sequence[Range]) -> str:
        """The name of a rule matching one code point of ``ranges`` (made once)."""
        body = ebnf_class(sorted(ranges))
        name = self._class_names.get(body)
        if name is None:
            name = f"{self.prefix}_c{len(self._class_names)}"
            self._class_names[body] = name
            # The empty lookahead holds everywhere; it keeps the class a rule of its own.
            # The core inlines small rules, which would copy the byte automaton of a
            # class of thousands of ranges into every state that reads it.
            self.rules[name] = f'{body} (= "")'

        return name

    def add(self, name: str, body: str) -> str:
        """Add rule ``prefix_name`` and return its full name."""
        full = f"{self.prefix}_{name}"
        self.rules[full] = body
        return full

    def automaton(
        self,
        name: str,
        alphabet: Dict[Symbol, List[Range]],
        start: State,
        step: Callable[[State, Symbol], Optional[State]],
        accepting: Callable[[State], bool],
    ) -> Optional[str]:
        """Write the minimal DFA of ``step`` from ``start`` as rules; return its root rule.

        Parameters
        ----------
        name : str
            Stem of the rule names.
        alphabet : dict
            Symbol -> the code points it stands for.
        start : hashable
            The initial state.
        step : callable
            ``step(state, symbol)``: the next state, or ``None`` to reject.
        accepting : callable
            Whether a state ends a word.

        Returns
        -------
        str or None
            The name of the start state's rule; ``None`` when the language is empty.

        """
        symbols = list(alphabet)
        states, edges = _explore(start, symbols, step)
        block = _minimise(states, edges, symbols, [accepting(s) for s in states])
        live = _live_blocks(block, edges, [accepting(s) for s in states])
        if block[0] not in live:
            return None
        # Symbols that every state treats alike share one class rule.
        columns: Dict[tuple, List[int]] = {}
        for k in range(len(symbols)):
            signature = tuple(
                block[edges[i][k]] if edges[i][k] is not None and block[edges[i][k]] in live else -1
                for i in range(len(states))
            )
            columns.setdefault(signature, []).append(k)
        column_ranges = [[r for k in ks for r in alphabet[symbols[k]]] for ks in columns.values()]
        bodies: Dict[int, str] = {}
        for i in range(len(states)):
            b = block[i]
            if b in bodies or b not in live:
                continue
            by_target: Dict[int, List[int]] = {}
            for c, signature in enumerate(columns):
                if signature[i] >= 0:
                    by_target.setdefault(signature[i], []).append(c)
            alternatives = ['""'] if accepting(states[i]) else []
            for target, cs in sorted(by_target.items()):
                head = self.class_rule([r for c in cs for r in column_ranges[c]])
                alternatives.append(f"{head} {self.prefix}_{name}_{target}")
            bodies[b] = " | ".join(alternatives)
        for b, body in bodies.items():
            self.rules[f"{self.prefix}_{name}_{b}"] = body
        return f"{self.prefix}_{name}_{block[0]}"


def _explore(
    start: State, symbols: List[Symbol], step: Callable[[State, Symbol], Optional[State]]
) -> Tuple[List[State], List[List[Optional[int]]]]:
    """Reachable states (the start first) and their transitions by symbol index."""
    index: Dict[State, int] = {start: 0}
    states: List[State] = [start]
    edges: List[List[Optional[int]]] = []
    i = 0
    while i < len(states):
        row: List[Optional[int]] = []
        for symbol in symbols:
            nxt = step(states[i], symbol)
            if nxt is None:
                row.append(None)
                continue
            if nxt not in index:
                index[nxt] = len(states)
                states.append(nxt)
            row.append(index[nxt])
        edges.append(row)
        i += 1
    return states, edges


def _minimise(
    states: List[State], edges: List[List[Optional[int]]], symbols: List[Symbol], accept: List[bool]
) -> List[int]:
    """Moore's partition refinement: the block of each state, the start's block is 0."""
    block = [1 if a else 0 for a in accept]
    while True:
        keys: Dict[tuple, int] = {}
        new = []
        for i in range(len(states)):
            key = (block[i],) + tuple(-1 if e is None else block[e] for e in edges[i])
            new.append(keys.setdefault(key, len(keys)))
        if len(keys) == len(set(block)):
            break
        block = new
    # Renumber so that the start state's block is 0 and the others follow in order seen.
    order: Dict[int, int] = {}
    for b in block:
        order.setdefault(b, len(order))
    return [order[b] for b in block]


def _live_blocks(block: List[int], edges: List[List[Optional[int]]], accept: List[bool]) -> set:
    """Blocks from which an accepting state can be reached."""
    live = {block[i] for i, a in enumerate(accept) if a}
    changed = True
    while changed:
        changed = False
        for i, row in enumerate(edges):
            if block[i] not in live and any(e is not None and block[e] in live for e in row):
                live.add(block[i])
                changed = True
    return live
