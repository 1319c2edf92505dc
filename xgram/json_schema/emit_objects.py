"""Objects: members in schema order (or any order), counts, additional keys.

Declared properties come in schema order, each present or absent as ``required``
says; a chain of rules "members from declared property i on, n written so far"
places the commas and counts members for ``minProperties``/``maxProperties``.
Additional keys must differ from every declared name: the key grammar is the
difference ``chars* - ("name1" | "name2" ...)``, which the automaton builder
turns into a trie of the names that leaves it at the first differing character.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Dict, List, Optional, Set, Tuple

from ..errors import SchemaError
from .check import conj_accepts, sub_accepts
from .common import MAX_COUNT_BOUND
from .matching import patterns_may_overlap
from .records import TRUE_SUB, Conj, Sub, conj_sub, key_rule, new_conj
from .spelling import Layout, ebnf_literal, string_literal

MAX_COUNT_STATES = 64
MAX_ANY_ORDER_REQUIRED = 8
MAX_WITNESSES = 5  # undeclared members of given shapes one object must hold
MAX_KEY_REGIONS = 64  # sets of patternProperties one key may match together, per object


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


def _trie(words: Any) -> Dict[str, Any]:
    """The character trie of ``words``; the key ``""`` marks a word's end."""
    trie: Dict[str, Any] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}
    return trie


def not_in_set_regex(words: List[str]) -> str:
    """A regex (whole-match) for every string except the given ones."""
    trie = _trie(words)

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


_SPECIAL_KEY_CHARS = set('"\\/') | {chr(i) for i in range(0x20)}
# An escape after its backslash, for the characters no key word holds
# (_SPECIAL_KEY_CHARS): the spellings the regex path (json_string_encoding.cc)
# gives them without general \u escapes.
ESCAPE_AFTER_BACKSLASH = '["\\\\/bfnrt] | "u" "00" ([01] [0-9A-Fa-f] | "22" | "2" [Ff] | "5" [Cc])'


# A key character other than a quote or a backslash, spelled raw or, for the
# characters that no key word may hold (_SPECIAL_KEY_CHARS), escaped.
_KEY_CHAR = '[^"\\\\\\x00-\\x1F] | "\\\\" (' + ESCAPE_AFTER_BACKSLASH + ")"
# \u escapes of the code points past ASCII, which spell no character of an
# ASCII word.
_BEYOND_ASCII_ESCAPE = (
    '"\\\\u" ("00" [89A-Fa-f] [0-9A-Fa-f] | "0" [1-9A-Fa-f] [0-9A-Fa-f]{2}'
    " | [1-9A-Fa-f] [0-9A-Fa-f]{3})"
)


@lru_cache(maxsize=1024)
def key_not_in_set_ebnf(words: Tuple[str, ...]) -> Optional[str]:
    r"""EBNF for a JSON string literal whose value is none of ``words``.

    The key is written as a difference, ``"\"" (chars* - ("w1" | "w2" ...))
    "\""``: the automaton builder compiles both operands and splices in their
    product, a trie of the words whose every node can leave at a character no
    word continues with, so the grammar text grows by the words alone. That is
    exact only when a word has one spelling, so here a key spells its
    characters raw and escapes only those no word may hold (quote, backslash,
    slash, controls), plus, when every word is ASCII, any code point past ASCII.
    Every key value keeps a spelling; ``\u`` escapes of other characters,
    which no JSON serialiser writes, are not offered. Words with characters
    that have escape spellings are left to the general regex path (None is
    returned).
    """
    if any(ch in _SPECIAL_KEY_CHARS for w in words for ch in w):
        return None
    chars = _KEY_CHAR
    if all(w.isascii() for w in words):
        chars += " | " + _BEYOND_ASCII_ESCAPE
    excluded = " | ".join(ebnf_literal(w) for w in words)
    return f'"\\"" (({chars})* - ({excluded})) "\\""'


def _key_regions(patterns: List[str]) -> Optional[List[Set[str]]]:
    """The sets of ``patterns`` one key may match together (the empty set first).

    A set holding two patterns no string matches at once is left out, so disjoint
    patterns (the usual case: distinct prefixes or names) give one region each
    instead of 2**n. None when there would be more than MAX_KEY_REGIONS.
    """
    regions: List[Set[str]] = [set()]
    for p in patterns:
        grown = []
        for region in regions:
            if all(patterns_may_overlap(p, q) for q in region):
                grown.append(region | {p})
        regions.extend(grown)
        if len(regions) > MAX_KEY_REGIONS:
            return None
    return regions


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


class ObjectEmitter:
    """Object spelling, mixed into :class:`~xgram.json_schema.emit.Emitter`."""

    def object(self, c: Conj, depth: int, hint: str) -> Optional[str]:
        """The EBNF for the objects of record ``c`` (schema order)."""
        if c.some_member:
            return self.object_with_member(c, depth, hint)
        lay = self.layout(depth)
        names_sub = c.property_names
        members: List[Tuple[str, bool]] = []
        n_required = 0  # among members
        first_required: Optional[int] = None  # the index in members of the first
        declared = list(c.properties) + [r for r in c.required if r not in c.properties]
        required_names = set(c.required)  # a set: objects may declare thousands of names
        for name in declared:
            required = name in required_names
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
                        vsub = conj_sub(vsub, s)
            v = self.value(vsub, depth + 1, name)
            if v is None:
                if required:
                    return None
                continue
            if required:
                n_required += 1
                if first_required is None:
                    first_required = len(members)
            members.append((f"{string_literal(name)} {lay.key_sep} {v}", required))
        extra = self.extra_member(c, declared, lay, depth, hint)
        witness = None
        if c.extra_witnesses:
            witness = self.witness_members(c, declared, lay, depth, hint)
            if witness is None:
                return None
        lo, hi = c.min_properties, c.max_properties
        if hi is not None and lo > hi:
            return None
        if self.any_order and (
            len(members) > 1 or (members and extra is not None) or witness is not None
        ):
            return self.object_any_order(c, lay, members, extra, hint, witness)
        counted = hi is not None or lo > 0
        extras_only = not members and extra is not None and witness is None
        if counted and extras_only and max(lo, hi or 0) <= MAX_COUNT_BOUND:
            return self.object_of_extras(lay, extra, lo, hi)
        cap = (hi if hi is not None else lo) if counted else 0
        if cap > MAX_COUNT_STATES:
            self.norm.relax(
                "maxProperties" if hi is not None else "minProperties",
                c.origin.get("maxProperties") or c.origin.get("minProperties", ""),
                f"property counts above {MAX_COUNT_STATES} are not supported",
            )
            counted, cap, lo, hi = False, 0, 0, None
        chain = _MemberChain(self, hint, members, extra, lay.item_sep, lo, hi, witness)
        n = len(members)
        # Fill the memo from the last member backwards, so that no call recurses
        # deeper than one level (objects may declare thousands of properties), and
        # only with the entries first(0) reaches (any other would be a rule nothing
        # names): first(i) while members 0..i-1 are all optional, and after(i, count)
        # from count = the required members before i (at least one member) to i.
        top = max(1, lo if hi is None else hi + 1)
        required_before = n_required  # among members 0..i-1, kept for i from n down
        for i in range(n, 0, -1):
            for count in range(min(max(1, required_before), top), min(i, top) + 1):
                chain.after(i, count)
            required_before -= members[i - 1][1]
        for i in range(n if first_required is None else first_required, -1, -1):
            chain.first(i)
        nonempty = chain.first(0)
        forms = []
        if nonempty is not None:
            forms.append(f"{lay.open_object} {nonempty} {lay.close_object}")
        if lo == 0 and not any(r for _, r in members) and witness is None:
            forms.append(lay.empty_object)
        if not forms:
            return None
        return "(" + " | ".join(forms) + ")"

    def object_of_extras(
        self, lay: Layout, extra: str, lo: int, hi: Optional[int]
    ) -> Optional[str]:
        """Objects of undeclared members only, ``lo`` to ``hi`` of them.

        One counted repetition (a bound of 100 is 100 calls of one rule), where
        the member chain would track each count in a rule of its own.
        """
        forms = []
        if hi is None or hi >= 1:
            more_hi = "" if hi is None else str(hi - 1)
            forms.append(
                f"{lay.open_object} {extra} ({lay.item_sep} {extra}){{{max(lo - 1, 0)},{more_hi}}} "
                f"{lay.close_object}"
            )
        if lo == 0:
            forms.append(lay.empty_object)
        return "(" + " | ".join(forms) + ")" if forms else None

    def object_any_order(
        self,
        c: Conj,
        lay: Layout,
        members: List[Tuple[str, bool]],
        extra: Optional[str],
        hint: str,
        witness: Optional[_WitnessRun] = None,
    ) -> Optional[str]:
        """Members in any order: the state is the set of required members written so far.

        Optional and additional members may appear anywhere (a repeated optional key
        carries a valid value each time). Property counts cannot be tracked here.
        Required undeclared members of given shapes (``witness``) are more bits of
        the state, set by a member of their shape.
        """
        if c.min_properties > 0 or c.max_properties is not None:
            self.norm.relax(
                "maxProperties" if c.max_properties is not None else "minProperties",
                c.origin.get("maxProperties") or c.origin.get("minProperties", ""),
                "property counts are not supported with any_order",
            )
        required = [kv for kv, r in members if r]
        if len(required) > MAX_ANY_ORDER_REQUIRED:
            raise SchemaError(
                f"any_order supports at most {MAX_ANY_ORDER_REQUIRED} required properties per object",  # noqa: E501
                "required",
                c.origin.get("required", ""),
            )
        loose = [kv for kv, r in members if not r] + ([extra] if extra is not None else [])
        loose_rule = self.add_rule(hint + "_loose", " | ".join(loose)) if loose else None
        # (member, the state bits it sets, whether those bits must still be clear)
        entries = [(kv, 1 << i, True) for i, kv in enumerate(required)]
        full = (1 << len(required)) - 1
        if witness is not None:
            shift = len(required)
            entries += [(kv, owed << shift, False) for owed, kv in witness.members.items()]
            full |= witness.full << shift
        chain = _AnyOrderChain(self, hint, entries, full, loose_rule, lay.item_sep)
        firsts = [f"{kv} {chain.after(bits)}" for kv, bits, _ in entries]
        if loose_rule is not None:
            firsts.append(f"{loose_rule} {chain.after(0)}")
        forms = [f"{lay.open_object} ({' | '.join(firsts)}) {lay.close_object}"] if firsts else []
        if full == 0:
            forms.append(lay.empty_object)
        return "(" + " | ".join(forms) + ")" if forms else None

    def object_with_member(self, c: Conj, depth: int, hint: str) -> Optional[str]:
        """Objects of ``c`` with a member whose key and value satisfy ``c.some_member[0]``.

        The member is either a declared property (then it is required and its
        value satisfies both schemas) or an undeclared key: one object form per
        declared name the key schema admits, and one with the member among the
        additional members (``extra_witness``).
        """
        (key_sub, value_sub), rest = c.some_member[0], c.some_member[1:]
        forms = []
        declared = list(c.properties) + [r for r in c.required if r not in c.properties]
        for name in declared:
            if not sub_accepts(self.norm, key_sub, name):
                continue
            v = c.copy()
            v.some_member = rest
            if name not in v.required:
                v.required.append(name)
            current = c.properties.get(name)
            if current is None:
                current = self._undeclared_value(c, name)
            v.properties[name] = conj_sub(current, value_sub)
            expr = self.object(v, depth, hint)
            if expr is not None and expr not in forms:
                forms.append(expr)
        v = c.copy()
        v.some_member = rest
        v.extra_witnesses.append((key_sub, value_sub))
        expr = self.object(v, depth, hint)
        if expr is not None and expr not in forms:
            forms.append(expr)
        if not forms:
            return None
        return forms[0] if len(forms) == 1 else "(" + " | ".join(forms) + ")"

    def witness_members(
        self, c: Conj, declared: List[str], lay: Layout, depth: int, hint: str
    ) -> Optional[_WitnessRun]:
        """The additional members when they must include ``c.extra_witnesses``.

        A run of additional members, separated, that holds a member of each
        witness shape: ordinary members, or members satisfying some of the
        witnesses still owed (key and value obeying all of theirs). The run's
        rules track the set of witnesses satisfied so far (and, with property
        counts, the members written).
        """
        ws = c.extra_witnesses
        if len(ws) > MAX_WITNESSES:
            self.norm.relax(
                "not",
                c.origin.get("not", ""),
                f"more than {MAX_WITNESSES} undeclared members of given shapes",
            )
            ws = ws[:MAX_WITNESSES]
        extra = self.extra_member(c, declared, lay, depth, hint)
        if extra is None:
            return None
        full = (1 << len(ws)) - 1
        members: Dict[int, str] = {}  # witness set -> a member satisfying all of it
        for subset in range(1, full + 1):
            chosen = [w for i, w in enumerate(ws) if subset >> i & 1]
            key_sub, value_sub = chosen[0]
            for k, v in chosen[1:]:
                key_sub, value_sub = conj_sub(key_sub, k), conj_sub(value_sub, v)
            member = self.extra_member(c, declared, lay, depth, hint, (key_sub, value_sub))
            if member is not None:
                members[subset] = member
        return _WitnessRun(self, hint, extra, members, full, lay.item_sep)

    def _maybe_rule(self, expr: Optional[str], hint: str) -> Optional[str]:
        if expr is None or len(expr) < 60:
            return expr
        return self.add_rule(hint + "_m", expr)

    def _undeclared_value(self, c: Conj, name: str) -> Sub:
        return key_rule(c, lambda pattern: self.norm.pattern_matches(pattern, name))

    def extra_member(
        self,
        c: Conj,
        declared: List[str],
        lay: Layout,
        depth: int,
        hint: str,
        witness: Optional[Tuple[Sub, Sub]] = None,
    ) -> Optional[str]:
        """A `key: value` member for keys not declared in `properties`, or None.

        With ``witness`` (key schema, value schema), only the members whose key
        and value also satisfy those.
        """
        # strict_mode (XGrammar's): an object that declares its members (`properties`,
        # `required`, `patternProperties`) admits no others unless `additionalProperties`
        # says so. One that declares none (`{"type": "object"}`, `{}`, `true`) stays open,
        # as in XGrammar: it is what JSON mode asks for, and closing it leaves only `{}`.
        declares = (
            bool(c.properties)
            or "properties" in c.origin  # `"properties": {}` too, as XGrammar reads it
            or bool(c.required)
            or bool(c.pattern_properties)
        )
        strict_closed = (
            self.strict_mode and declares and c.additional == TRUE_SUB and not c.all_props_evaluated
        )
        if strict_closed and not c.pattern_properties:
            return None
        pp_ptr = c.origin.get("patternProperties", "")
        patterns = list(dict.fromkeys(p for p, _ in c.pattern_properties))
        regions = _key_regions(patterns)
        if regions is None:
            self.norm.relax(
                "patternProperties",
                pp_ptr,
                f"more than {MAX_KEY_REGIONS} sets of patternProperties a key may match at once",
            )
            regions = [set()] + [{p} for p in patterns]
        allow_additional = not strict_closed and bool(self.norm.normalize_sub(c.additional))
        parts = []
        # The undeclared keys split into regions by which patterns they match; a
        # region's keys take the conjunction of those patterns' schemas, or
        # additionalProperties when they match none. Each region is a regular key
        # language: (patterns in) & ... - (patterns out) - declared names.
        for region in regions:
            matched = [p for p in patterns if p in region]
            if not matched and not allow_additional:
                continue
            value_sub = key_rule(c, region.__contains__)
            unmatched = [p for p in patterns if p not in region]
            names = c.property_names
            if witness is not None:
                names = conj_sub(names, witness[0])
                value_sub = conj_sub(value_sub, witness[1])
            key = self.key_expr(c, matched, unmatched, declared, names)
            v = self.value(value_sub, depth + 1, hint + ("_pattern" if matched else "_extra"))
            if key is not None and v is not None:
                parts.append(f"{key} {lay.key_sep} {v}")
        if not parts:
            return None
        return self.add_rule(hint + ("_witness_kv" if witness else "_extra_kv"), " | ".join(parts))

    def key_expr(
        self,
        c: Conj,
        matched: List[str],
        unmatched: List[str],
        declared: List[str],
        names: Sub,
    ) -> Optional[str]:
        """A key in one region of the undeclared keys.

        It matches every pattern of ``matched`` and none of ``unmatched``, is
        none of ``declared``, and satisfies ``names`` (``propertyNames``).
        """
        if names == TRUE_SUB and not matched and not unmatched:
            if not declared:
                self.uses_json_string = True
                return "json_string"
            # With general escapes every spelling of a word must be excluded: the
            # regex path below does that.
            direct = None if self.general_escapes else key_not_in_set_ebnf(tuple(declared))
            if direct is not None:
                return self.add_rule("key", direct)
        key_conjs = (
            [new_conj()]
            if names == TRUE_SUB
            else [k for k in self.norm.normalize_sub(names) if "string" in k.types]
        )
        forms = []
        for k in key_conjs:  # propertyNames: keys are strings satisfying it
            k = k.copy()
            k.types, k.number = {"string"}, None
            k.patterns = k.patterns + [(p, "") for p in matched]
            k.anti_strings = k.anti_strings + [("pattern", p, "") for p in unmatched]
            if k.consts is not None:
                k.consts = [v for v in k.consts if isinstance(v, str) and v not in declared]
                forms.extend(string_literal(v) for v in k.consts if conj_accepts(self.norm, k, v))
                continue
            excluded = [v for v in k.excluded if isinstance(v, str)] + list(declared)
            expr = self.string(k, excluded)
            if expr is not None:
                forms.append(expr)
        if not forms:
            return None
        return "(" + " | ".join(forms) + ")"


@dataclass
class _MemberChain:
    """The rules "members from declared property i on", memoised per (i, count).

    A class rather than recursive closures: a closure that names itself is a
    reference cycle, which would leave the emitter it reaches to the cycle
    collector instead of reference counting.
    """

    emitter: Any
    hint: str
    members: List[Tuple[str, bool]]
    extra: Optional[str]
    sep: str
    lo: int
    hi: Optional[int]
    # Additional members that must occur (object_with_member): the run that
    # holds them replaces the ordinary additional members.
    witness: Optional[_WitnessRun] = None
    memo: Dict[Tuple[str, int, int], Optional[str]] = field(default_factory=dict)

    def extras(self, count: int, first: bool) -> Optional[str]:
        """Additional members after `count` members, none yet written when `first`."""
        lo, hi, extra, sep = self.lo, self.hi, self.extra, self.sep
        if self.witness is not None:
            # A non-empty run of additional members holding the witnesses.
            e_hi = None if hi is None else hi - count
            run = self.witness.run(max(1, lo - count), e_hi)
            if run is None:
                return None
            return run if first else f"{sep} {run}"
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

    def after(self, i: int, count: int) -> Optional[str]:
        """Members from declared i on, `count` (>= 1) already emitted."""
        hi = self.hi
        # Without maxProperties, counts past minProperties are all alike.
        key = ("S", i, min(count, self.lo) if hi is None else count)
        if key in self.memo:
            return self.memo[key]
        if i == len(self.members):
            result = self.extras(count, False)
        else:
            kv, required = self.members[i]
            take_rest = self.after(i + 1, count + 1) if hi is None or count + 1 <= hi else None
            take = None if take_rest is None else f"{self.sep} {kv} {take_rest}".strip()
            skip = None if required else self.after(i + 1, count)
            result = _either(take, skip)
        self.memo[key] = self.emitter._maybe_rule(result, self.hint)
        return self.memo[key]

    def first(self, i: int) -> Optional[str]:
        """Members from declared i on, none emitted yet, at least one to come."""
        hi = self.hi
        key = ("F", i, 0)
        if key in self.memo:
            return self.memo[key]
        if i == len(self.members):
            result = (
                self.extras(0, True) if self.extra is not None and (hi is None or hi >= 1) else None
            )
        else:
            kv, required = self.members[i]
            rest = self.after(i + 1, 1) if hi is None or hi >= 1 else None
            take = None if rest is None else f"{kv} {rest}".strip()
            skip = None if required else self.first(i + 1)
            result = _either(take, skip)
        self.memo[key] = self.emitter._maybe_rule(result, self.hint)
        return self.memo[key]


@dataclass
class _WitnessRun:
    """Rules for a run of additional members that must hold given witnesses.

    ``after(mask, n)``: the members after the first ``n`` of the run (each with
    its leading separator), ``mask`` the witnesses satisfied so far; the run may
    end once every witness is satisfied and ``n`` reached the lower bound.
    Without an upper bound, counts past the lower bound are all alike.
    """

    emitter: Any
    hint: str
    extra: str
    members: Dict[int, str]  # witness set -> a member satisfying all of it
    full: int
    sep: str
    names: Dict[Tuple[int, int, int, int], Optional[str]] = field(default_factory=dict)

    def run(self, lo: int, hi: Optional[int]) -> Optional[str]:
        """The run: one member or more, between ``lo`` and ``hi`` of them."""
        if hi is not None and (hi < lo or hi > MAX_COUNT_STATES):
            if hi < lo:
                return None
            self.emitter.norm.relax(
                "maxProperties", "", f"property counts above {MAX_COUNT_STATES} are not supported"
            )
            hi = None
        if lo > MAX_COUNT_STATES:
            self.emitter.norm.relax(
                "minProperties", "", f"property counts above {MAX_COUNT_STATES} are not supported"
            )
            lo = 1
        forms = []
        for subset, member in [(0, self.extra), *self.members.items()]:
            rest = self.after(subset, 1, lo, hi)
            if rest is not None:
                forms.append(f"{member} {rest}")
        return self.emitter.add_rule(self.hint + "_run", " | ".join(forms)) if forms else None

    def after(self, mask: int, n: int, lo: int, hi: Optional[int]) -> Optional[str]:
        """The rule for the members after ``n`` of them, ``mask`` satisfied (None: dead)."""
        if hi is None:
            n = min(n, lo)
        elif n >= hi and (mask != self.full or n < lo):
            return None  # no room left for the witnesses still owed
        key = (mask, n, lo, -1 if hi is None else hi)
        if key in self.names:
            return self.names[key]
        # Unbounded runs cycle, so the name is reserved first (and such a state
        # always has the ordinary member's loop); bounded ones only count up, so
        # a state with no way on is found before it is named.
        name = self.emitter.fresh(self.hint + "_owed") if hi is None else ""
        if hi is None:
            self.names[key] = name
        forms = []
        if mask == self.full and n >= lo:
            forms.append('""')
        if hi is None or n < hi:
            owed = self.full & ~mask
            steps = [(0, self.extra)]
            steps += [(s, m) for s, m in self.members.items() if s & owed == s]
            for subset, member in steps:
                rest = self.after(mask | subset, n + 1, lo, hi)
                if rest is not None:
                    forms.append(f"{self.sep} {member} {rest}")
        if not forms:
            self.names[key] = None  # bounded only: remembered so it is not rebuilt
            return None
        if hi is not None:
            name = self.emitter.fresh(self.hint + "_owed")
            self.names[key] = name
        self.emitter.rules[name] = " | ".join(forms)
        return name


@dataclass
class _AnyOrderChain:
    """The rules "the members in ``mask`` written, the rest to come".

    A class for the same reason as _MemberChain: no self-naming closure. Each
    entry is a member and the state bits it sets: a required property's own bit
    (written once), or the witnesses a member of a given shape satisfies.
    """

    emitter: Any
    hint: str
    entries: List[Tuple[str, int, bool]]  # (member, bits, bits must still be clear)
    full: int
    loose_rule: Optional[str]
    sep: str
    names: Dict[int, str] = field(default_factory=dict)

    def after(self, mask: int) -> str:
        """The rule name for ``mask`` (the state bits set so far)."""
        if mask in self.names:
            return self.names[mask]
        name = self.emitter.fresh(self.hint + "_any")
        self.names[mask] = name
        alts = ['""'] if mask == self.full else []
        for kv, bits, exclusive in self.entries:
            if (exclusive and bits & mask) or not bits & ~mask:
                continue
            alts.append(f"{self.sep} {kv} {self.after(mask | bits)}")
        if self.loose_rule is not None:
            alts.append(f"{self.sep} {self.loose_rule} {name}")
        self.emitter.rules[name] = " | ".join(alts)
        return name
