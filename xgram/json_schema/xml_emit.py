"""The argument layer of the XML tool-call styles, spelled as EBNF rules.

A tool's arguments in a model's XML-ish dialect are a list of *parameters*
(``<parameter=city>Paris</parameter>``) or, for MiniMax-M3 and Gemma 4, a whole
value tree in the model's own spelling. This module writes that layer and hands
what stays JSON (nested values of the flat XML styles, numbers everywhere) to
the ordinary :class:`~xgram.json_schema.emit.Emitter`, whose rules it shares:
one rule namespace, one ``ws`` rule, one memo.

A value is split by *kind* ("string", "number", "boolean", "null", "array",
"object", and "array_const"/"object_const" for literal structures), because the
styles write kinds differently: strings raw (unquoted, ended by the closing
tag), the others as JSON padded with whitespace, and some styles name the kind
in the parameter's header (DeepSeek's ``string="true|false"``, Kimi-K3's and
Cohere's ``type="..."``). The header is chosen per kind, so a header always
agrees with the value that follows it.

A raw string is a regular difference: its language (any text, a ``pattern``, a
``format``, a length range) minus every text holding the terminator that ends
it (the closing tag) or an excluded substring. A raw value that contained its
closing tag could not be read back, so that is never allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..errors import GrammarError, SchemaError
from ..grammar_text import parse_regex
from .check import conj_accepts
from .emit import Emitter
from .emit_objects import MAX_COUNT_STATES, _MemberChain
from .formats import format_regex
from .records import TRUE_SUB, Conj, Sub, new_conj
from .spelling import Layout, ebnf_literal, value_literal
from .values import canonical, json_type

ANY = "[^]"
IDENTIFIER = "[a-zA-Z_] [a-zA-Z0-9_]*"
KINDS = ("string", "number", "boolean", "null", "array", "object", "array_const", "object_const")
JSON_SCALARS = ("number", "boolean", "null")
# The longest length bound a raw string gets as one automaton (a difference); past
# it a counted repetition with lookaheads (see StyleEmitter.counted_text).
MAX_AUTOMATON_LENGTH = 2048


@dataclass(frozen=True)
class XmlStyle:
    """How one model writes tool arguments.

    Attributes
    ----------
    name : str
        The style's name (``"qwen_xml"``...).
    family : str
        ``"params"`` (a list of parameters), ``"m3"`` (MiniMax-M3 namespaced
        elements at every level) or ``"gemma"`` (Gemma 4's JSON-like tree).
    terminator : str
        The text that ends a raw string value: the closing tag, M3's namespace
        marker, Gemma's string delimiter.
    key_open, key_close : str
        The header of a named parameter around its (escaped) name.
    tags : dict
        Kind -> the header text after ``key_close`` (the type attribute, ``>``).
    value_open : str
        GLM's ``<arg_value>``, written after whitespace; ``""`` for the others.
    key_escapes : tuple of (str, str)
        Replacements applied to a name inside its attribute.
    bad_in_name : tuple of str
        Substrings a declared name may not hold: the text could not be read back.
    free_key : str
        EBNF for the names of additional properties (before escaping).
    nested_params : bool
        Cohere: nested objects and arrays are parameter lists too.
    item_open : str
        Cohere: the header of an unnamed list item, before its tag text.

    """

    name: str
    family: str
    terminator: str
    key_open: str = ""
    key_close: str = ""
    tags: Dict[str, str] = field(default_factory=dict)
    value_open: str = ""
    key_escapes: Tuple[Tuple[str, str], ...] = ()
    bad_in_name: Tuple[str, ...] = ()
    free_key: str = IDENTIFIER
    nested_params: bool = False
    item_open: str = ""

    def escape(self, name: str) -> str:
        """``name`` as written in a parameter header."""
        for raw, spelled in self.key_escapes:
            name = name.replace(raw, spelled)
        return name


def value_kind(value: Any) -> str:
    """The kind a literal is written as."""
    t = json_type(value)
    if t == "integer":
        return "number"
    return t + "_const" if t in ("array", "object") else t


def record_kinds(c: Conj) -> List[str]:
    """The kinds record ``c`` admits, in :data:`KINDS` order."""
    if c.consts is not None:
        found = {value_kind(v) for v in c.consts}
    else:
        found = set(c.types)
        if c.number:
            found.add("number")
    return [k for k in KINDS if k in found]


def restrict(c: Conj, kind: str) -> Conj:
    """Record ``c`` cut down to the values of one kind."""
    base = kind.split("_")[0]
    d = c.copy()
    if c.consts is not None:
        d.consts = [v for v in c.consts if value_kind(v) == kind]
    d.types = set() if base == "number" else {base} & c.types
    d.number = c.number if base == "number" else None
    return d


def free_record(types: Sequence[str]) -> Conj:
    """The record of an unconstrained value: open objects and arrays at every level."""
    c = new_conj()
    c.types = set(types) - {"number"}
    c.number = "number" if "number" in types else None
    c.all_props_evaluated = True  # strict mode closes objects only where a schema says so
    c.all_items_evaluated = True
    return c


def holds_excluded(value: Any, excludes: Sequence[str]) -> bool:
    """Whether any string (or key) inside ``value`` contains an excluded substring."""
    if isinstance(value, str):
        return any(e in value for e in excludes)
    if isinstance(value, list):
        return any(holds_excluded(v, excludes) for v in value)
    if isinstance(value, dict):
        return any(
            holds_excluded(k, excludes) or holds_excluded(v, excludes) for k, v in value.items()
        )
    return False


def containing(words: Sequence[str]) -> str:
    """EBNF for every text that contains one of ``words``."""
    return f"({ANY}* ({' | '.join(ebnf_literal(w) for w in words)}) {ANY}*)"


def class_char(ch: str) -> str:
    """``ch`` escaped for an EBNF character class."""
    return ch if ch.isascii() and ch.isalnum() else f"\\U{ord(ch):08X}"


def not_starting_with(words: Sequence[str]) -> str:
    """EBNF for the texts that leave every one of ``words`` (none empty) before it ends.

    As a lookahead it holds exactly when the text that follows starts with none of
    the words: walking the words' trie, the text either takes a character no word
    continues with, or goes on inside the trie without completing a word.
    """
    trie: Dict[str, Any] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def walk(node: Dict[str, Any]) -> str:
        chars = sorted(c for c in node if c)
        alternatives = ["[^" + "".join(class_char(c) for c in chars) + "]"]
        for c in chars:
            if "" not in node[c]:  # a word ends at the child: no way on through it
                alternatives.append(f"{ebnf_literal(c)} ({walk(node[c])})")
        return " | ".join(alternatives)

    return f"({walk(trie)})"


def _pointer(sub: Sub) -> str:
    return sub[0][2] if sub else ""


# --- regexes over raw text -----------------------------------------------------------------


def _top_level_alternatives(pattern: str) -> List[str]:
    """``pattern`` split at the ``|`` outside groups and classes."""
    parts, depth, in_class, start, i = [], 0, False, 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "^":
                i += 1
            if pattern[i + 1 : i + 2] == "]":  # a leading ] is a member, not the end
                i += 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


def _ends_with_anchor(text: str) -> bool:
    """Whether ``text`` ends with an unescaped ``$``."""
    if not text.endswith("$"):
        return False
    backslashes = len(text[:-1]) - len(text[:-1].rstrip("\\"))
    return backslashes % 2 == 0


def search_regex(pattern: str) -> str:
    r"""A whole-match regex for the texts that *contain* a match of ``pattern``.

    JSON Schema's ``pattern`` searches; xgram's regexes match whole texts. Each
    top-level alternative keeps its own anchors, and an unanchored side gets
    ``[\s\S]*``.
    """
    wrapped = []
    for alt in _top_level_alternatives(pattern):
        start = alt.startswith("^")
        end = _ends_with_anchor(alt[1:] if start else alt)
        core = alt[1 if start else 0 : len(alt) - 1 if end else len(alt)]
        before = "" if start else "[\\s\\S]*"
        after = "" if end else "[\\s\\S]*"
        wrapped.append(f"(?:{before}(?:{core}){after})")
    return "|".join(wrapped)


def regex_expr(regex: str, keyword: str, pointer: str) -> str:
    """A whole-match regex as one EBNF expression (xgram's regex engine prints one rule)."""
    try:
        text = parse_regex(regex).to_string().strip()
    except GrammarError as e:
        raise SchemaError(str(e), keyword, pointer) from None
    head = "root ::= "
    if "\n" in text or not text.startswith(head):
        raise SchemaError("this regex is too complex for a raw XML string", keyword, pointer)
    return "(" + text[len(head) :] + ")"


# --- nested JSON with excluded substrings --------------------------------------------------


class FilteringEmitter(Emitter):
    """The JSON emitter, with XGrammar's ``excludes`` applied to free strings and keys.

    A free string, a length-bounded one and a key lose every spelling whose text
    between the quotes holds an excluded substring (the emitted text, escapes
    and all); literals holding one are dropped. Strings with a ``pattern`` or a
    ``format`` are left to that constraint, as XGrammar does.
    """

    def __init__(self, norm: Any, *, excludes: Sequence[str], **options: Any) -> None:
        super().__init__(norm, **options)
        self.excludes = tuple(excludes)

    def quoted_excluded(self) -> str:
        """EBNF for the quoted strings whose content holds an excluded substring."""
        words = " | ".join(ebnf_literal(e) for e in self.excludes)
        return f'("\\"" {ANY}* ({words}) {ANY}* "\\"")'

    def filtered(self, expr: str, hint: str) -> str:
        """``expr`` (quoted strings) without the ones holding an excluded substring."""
        return self.add_rule(hint, f"({expr}) - {self.quoted_excluded()}")

    def conj(self, c: Conj, depth: int, hint: str) -> Optional[str]:
        """As the JSON emitter, without the literals that hold an excluded substring."""
        if self.excludes and c.consts is not None:
            kept = [v for v in c.consts if not holds_excluded(v, self.excludes)]
            if not kept:
                return None
            c = c.copy()
            c.consts = kept
        return super().conj(c, depth, hint)

    def _string(self, c: Conj, excluded: List[str]) -> Optional[str]:
        expr = super()._string(c, excluded)
        if expr is None or not self.excludes or c.patterns or c.formats or expr == "json_string":
            return expr  # json_string itself is filtered where the base rules are written
        return self.filtered(expr, "string_x")

    def key_expr(
        self,
        c: Conj,
        matched: List[str],
        unmatched: List[str],
        declared: List[str],
        names: Sub,
    ) -> Optional[str]:
        """As the JSON emitter; a key matching no pattern holds no excluded substring."""
        expr = super().key_expr(c, matched, unmatched, declared, names)
        if expr is None or not self.excludes or matched or expr == "json_string":
            return expr
        return self.filtered(expr, "key_x")


# --- the argument layer --------------------------------------------------------------------


def _layout(open_: str, close: str, sep: str, empty: str, key_sep: str = '""') -> Layout:
    """One Layout for both objects and arrays (the emitter's array/object helpers read it)."""
    return Layout(open_, close, open_, close, sep, key_sep, empty, empty)


class StyleEmitter:
    """Writes the argument layer of one style; JSON values go to ``json``."""

    def __init__(
        self, json: FilteringEmitter, style: XmlStyle, excludes: Sequence[str], any_order: bool
    ) -> None:
        self.json = json
        self.norm = json.norm
        self.style = style
        self.excludes = tuple(excludes)
        self.any_order = any_order
        self._memo: Dict[Any, Dict[str, str]] = {}
        self._building: Dict[Any, bool] = {}  # typed_bodies in progress -> referenced yet
        json.uses_ws = True
        family = style.family
        if family == "gemma":
            self.object_layout = _layout('"{" ws', 'ws "}"', 'ws "," ws', '"{" ws "}"')
            self.array_layout = _layout('"[" ws', 'ws "]"', 'ws "," ws', '"[" ws "]"')
        elif family == "m3":
            self.object_layout = self.array_layout = _layout("ws", "ws", "ws", '""')
        else:  # parameters: whitespace around and between them; list items touch
            self.object_layout = _layout("ws", "ws", "ws", "ws")
            self.array_layout = _layout("ws", "ws", '""', "ws")

    # --- values ----------------------------------------------------------------------------

    def root(self, sub: Sub) -> Optional[str]:
        """The arguments: an object's parameters, or another kind's value as is."""
        if sub == TRUE_SUB:  # unconstrained arguments: any parameters
            if self.style.family == "m3":
                self._unconstrained("")
            sub_records = [free_record(("object",))]
        else:
            sub_records = self.norm.normalize_sub(sub)
        alternatives = []
        for c in sub_records:
            for kind in record_kinds(c):
                d = restrict(c, kind)
                if kind == "object" and self.style.family == "params":
                    expr = self.object(d, "args", "")
                else:
                    expr = self.body(d, kind, "args", "")
                if expr is not None and expr not in alternatives:
                    alternatives.append(expr)
        return " | ".join(alternatives) if alternatives else None

    def typed_bodies(self, sub: Sub, hint: str, where: str = "") -> Dict[str, str]:
        """Kind -> the rule for the values of ``sub`` of that kind (memoised; recursion-safe).

        ``where`` is the JSON pointer of ``sub`` for errors (``sub`` may be the
        location-less schema ``true``).
        """
        key = self.json.sub_key(sub, 0)
        if key in self._memo:
            if key in self._building:
                self._building[key] = True
            return self._memo[key]
        if sub == TRUE_SUB:
            if self.style.family == "m3":
                self._unconstrained(where)
            sub_records = [free_record(KINDS[:6])]
        else:
            sub_records = self.norm.normalize_sub(sub)
        where = _pointer(sub) or where
        kinds = [k for k in KINDS if any(k in record_kinds(c) for c in sub_records)]
        names = {k: self.json.fresh(f"{hint}_{k}") for k in kinds}
        for name in names.values():
            self.json.rules[name] = ""  # reserved: a recursive schema refers to it
        self._memo[key] = names
        self._building[key] = False
        for kind in kinds:
            alternatives: List[str] = []
            for c in sub_records:
                if kind in record_kinds(c):
                    expr = self.body(restrict(c, kind), kind, hint, where)
                    if expr is not None and expr not in alternatives:
                        alternatives.append(expr)
            if alternatives:
                self.json.rules[names[kind]] = " | ".join(alternatives)
        referenced = self._building.pop(key)
        for kind in kinds:
            if not self.json.rules[names[kind]]:
                if referenced:
                    raise SchemaError(
                        f"a recursive schema whose {kind} values cannot be written",
                        "",
                        _pointer(sub),
                    )
                del self.json.rules[names.pop(kind)]
        return names

    def _unconstrained(self, where: str) -> None:
        raise SchemaError(
            "minimax_m3_xml needs a schema for every value (it has no spelling for an "
            f"unconstrained one, at {where or '#'})"
        )

    def body(self, d: Conj, kind: str, hint: str, where: str) -> Optional[str]:
        """The values of record ``d`` (cut to ``kind``, at JSON pointer ``where``)."""
        family = self.style.family
        if kind == "string":
            raw = self.raw_string(d, hint)
            if raw is not None and family == "gemma":
                delimiter = ebnf_literal(self.style.terminator)
                return f"{delimiter} {raw} {delimiter}"
            return raw
        if kind in JSON_SCALARS or (family == "params" and not self.style.nested_params):
            return self.json.conj(d, 1, hint)
        if kind.endswith("_const"):  # Cohere writes literal structures as JSON text
            return self.json.conj(d, 1, hint) if family == "params" else self.literals(d)
        if kind == "array":
            return self.array(d, hint, where)
        return self.object(d, hint, where)

    # --- raw strings -----------------------------------------------------------------------

    def raw_string(self, d: Conj, hint: str) -> Optional[str]:
        """Unquoted, unescaped strings of record ``d``, never holding the terminator."""
        terminator = self.style.terminator
        if d.consts is not None:
            others = d.copy()
            others.consts = None
            kept = []
            for v in d.consts:
                if terminator in v or holds_excluded(v, self.excludes):
                    continue  # no spelling could be read back / excluded
                if conj_accepts(self.norm, others, v) and ebnf_literal(v) not in kept:
                    kept.append(ebnf_literal(v))
            return "(" + " | ".join(kept) + ")" if kept else None
        lo, hi = d.min_length, d.max_length
        if hi is not None and lo > hi:
            return None
        lo, hi = self.json.checked_lengths(d, lo, hi)
        regexes = [regex_expr(search_regex(p), "pattern", ptr) for p, ptr in d.patterns]
        for name, ptr in d.formats:
            rx = format_regex(name)
            if rx is not None:  # an unknown format constrains nothing (JSON Schema's rule)
                regexes.append(regex_expr(rx, "format", ptr))
        excluded_values = [v for v in d.excluded if isinstance(v, str)]
        # XGrammar filters only strings without a pattern or format; so does xgram.
        forbidden = [terminator] + ([] if regexes else list(self.excludes))
        bounded = lo > 0 or hi is not None
        if not regexes and not excluded_values and max(lo, hi or 0) > MAX_AUTOMATON_LENGTH:
            return self.json.add_rule(hint + "_raw", self.counted_text(forbidden, lo, hi, hint))
        if not regexes:
            base = f"{ANY}*" if not bounded else f"{ANY}{{{lo},{'' if hi is None else hi}}}"
        else:
            base = regexes[0]
            for other in regexes[1:]:  # A and B = A minus (everything but B)
                base = f"({base}) - ({ANY}* - {other})"
            wrong_lengths = ([f"{ANY}{{0,{lo - 1}}}"] if lo > 0 else []) + (
                [f"{ANY}{{{hi + 1},}}"] if hi is not None else []
            )
            if wrong_lengths:
                base = f"({base}) - ({' | '.join(wrong_lengths)})"
        if excluded_values:
            base = f"({base}) - ({' | '.join(ebnf_literal(v) for v in excluded_values)})"
        return self.json.add_rule(hint + "_raw", f"({base}) - {containing(forbidden)}")

    def counted_text(self, words: Sequence[str], lo: int, hi: Optional[int], hint: str) -> str:
        """``lo``..``hi`` characters holding none of ``words``, as a counted repetition.

        The difference ``[^]{lo,hi} - (text holding a word)`` has an automaton with a
        state per (length, progress into a word) pair, built at compile time: fine
        for short bounds (up to :data:`MAX_AUTOMATON_LENGTH`), too slow to build for
        long ones. Here a character that starts a word is taken only when a lookahead
        shows the word does not follow, so the repetition stays counted and the
        grammar's size is independent of the bound; the price is paid in mask
        computation instead (each such character checks its lookahead). A word always
        follows the text (the terminator), so the lookahead never meets the end of
        the input.
        """
        firsts = sorted({w[0] for w in words})
        alternatives = ["[^" + "".join(class_char(c) for c in firsts) + "]"]
        for first in firsts:
            rests = [w[1:] for w in words if w[0] == first]
            if "" in rests:
                continue  # the character is a whole word: never taken
            guard = f"{ebnf_literal(first)} (= {not_starting_with(rests)})"
            alternatives.append(self.json.add_rule(hint + "_guard", guard))
        return f"({' | '.join(alternatives)}){{{lo},{'' if hi is None else hi}}}"

    # --- literal structures (M3, Gemma) ----------------------------------------------------

    def literals(self, d: Conj) -> Optional[str]:
        """The literal arrays/objects of record ``d`` in this style's spelling."""
        others = d.copy()
        others.consts = None
        kept: List[str] = []
        seen = set()
        for v in d.consts or []:
            key = canonical(v)
            if key in seen or not conj_accepts(self.norm, others, v):
                continue
            seen.add(key)
            spelled = self.literal(v)
            if spelled is not None:
                kept.append(spelled)
        return "(" + " | ".join(kept) + ")" if kept else None

    def literal(self, value: Any) -> Optional[str]:
        """One literal in this style's spelling, or None when it cannot be written."""
        if isinstance(value, str):
            if self.style.terminator in value or holds_excluded(value, self.excludes):
                return None
            if self.style.family == "gemma":
                return ebnf_literal(self.style.terminator + value + self.style.terminator)
            return ebnf_literal(value)
        if not isinstance(value, (list, dict)):
            return value_literal(value, self.json.layout, 0)
        entries = []
        for name, item in value.items() if isinstance(value, dict) else enumerate(value):
            spelled = self.literal(item)
            if spelled is None:
                return None
            if isinstance(value, dict) and (
                not self.name_ok(name) or any(bad in name for bad in self.style.bad_in_name)
            ):
                return None  # a name that cannot be written: the literal has no spelling
            entries.append(self.entry(name if isinstance(value, dict) else None, spelled))
        lay = self.object_layout if isinstance(value, dict) else self.array_layout
        if not entries:
            return lay.empty_object
        return f"({lay.open_object} {f' {lay.item_sep} '.join(entries)} {lay.close_object})"

    def entry(self, name: Optional[str], value: str) -> str:
        """A member (named) or an array item (unnamed) around the EBNF ``value``."""
        if self.style.family == "m3":
            marker = self.style.terminator
            tag = "item" if name is None else name
            return f"{ebnf_literal(f'{marker}<{tag}>')} {value} {ebnf_literal(f'{marker}</{tag}>')}"
        if name is None:
            return value
        return f'{ebnf_literal(name)} ws ":" ws {value}'

    # --- objects ---------------------------------------------------------------------------

    def name_ok(self, name: str) -> bool:
        """Whether a declared name can be written (Gemma drops names with exclusions)."""
        return not (self.style.family == "gemma" and holds_excluded(name, self.excludes))

    def check_name(self, name: str, pointer: str) -> None:
        """Refuse a declared name whose spelling could not be read back."""
        bad = [s for s in self.style.bad_in_name if s in name]
        if self.style.family == "m3" and (not name.strip() or name.startswith("/")):
            bad.append("an empty or blank name, or a leading '/'")
        if bad:
            raise SchemaError(
                f"property name {name!r} cannot be written in {self.style.name} "
                f"(it holds {bad[0]!r})",
                "properties",
                pointer,
            )

    def object(self, c: Conj, hint: str, pointer: str) -> Optional[str]:
        """The objects of record ``c`` (at ``pointer``): parameters, M3 elements, Gemma members."""
        if any(isinstance(v, dict) for v in c.excluded):
            raise SchemaError(
                f"excluding a particular object is not supported in {self.style.name}",
                "not",
                pointer,
            )
        declared = list(c.properties) + [r for r in c.required if r not in c.properties]
        required = set(c.required)
        members: List[Tuple[str, bool]] = []
        for name in declared:
            self.check_name(name, pointer)
            where = f"{pointer}/properties/{name}"
            value = self.member(name, c.properties.get(name, c.additional), f"{hint}_{name}", where)
            if value is None or not self.name_ok(name):
                if name in required:
                    return None
                continue
            members.append((value, name in required))
        extra = self.extra_member(c, declared, hint, pointer)
        return self.member_list(c, members, extra, hint)

    def member(self, name: str, sub: Sub, hint: str, where: str) -> Optional[str]:
        """One declared property: its name and every kind of its value."""
        bodies = self.typed_bodies(sub, hint, where)
        if not bodies:
            return None
        if self.style.family == "params":
            spelled = self.style.key_open + self.style.escape(name) + self.style.key_close
            return self.parameter(lambda tag: ebnf_literal(spelled + tag), bodies, hint)
        return self.json.add_rule(hint, self.entry(name, self.union(bodies, hint)))

    def union(self, bodies: Dict[str, str], hint: str) -> str:
        """One rule for a value of any of its kinds."""
        if len(bodies) == 1:
            return next(iter(bodies.values()))
        return self.json.add_rule(hint + "_any", " | ".join(bodies.values()))

    def parameter(self, head: Callable[[str], str], bodies: Dict[str, str], hint: str) -> str:
        """A parameter per header: each kind's value under the header naming that kind."""
        by_tag: Dict[str, List[str]] = {}
        for kind in bodies:
            by_tag.setdefault(self.style.tags[kind], []).append(kind)
        alternatives = []
        for tag, kinds in by_tag.items():
            raw = [bodies[k] for k in kinds if not self.padded(k)]
            padded = [bodies[k] for k in kinds if self.padded(k)]
            values = raw + ([f"ws ({' | '.join(padded)}) ws"] if padded else [])
            opener = f" ws {ebnf_literal(self.style.value_open)}" if self.style.value_open else ""
            alternatives.append(
                f"{head(tag)}{opener} ({' | '.join(values)}) {ebnf_literal(self.style.terminator)}"
            )
        return self.json.add_rule(hint + "_param", " | ".join(alternatives))

    def padded(self, kind: str) -> bool:
        """Whether whitespace may surround a value of ``kind`` inside its parameter."""
        if kind == "string":
            return False  # raw text: its whitespace is part of the value
        return not (self.style.nested_params and kind in ("array", "object"))

    def extra_member(self, c: Conj, declared: List[str], hint: str, pointer: str) -> Optional[str]:
        """A member for the names ``properties`` does not declare, or None."""
        for keyword, present in (
            ("patternProperties", bool(c.pattern_properties)),
            ("propertyNames", c.property_names != TRUE_SUB),
        ):
            if present:
                raise SchemaError(
                    f"{keyword} is not supported in {self.style.name}", keyword, pointer
                )
        strict_closed = c.additional == TRUE_SUB and not c.all_props_evaluated
        if strict_closed or (
            c.additional != TRUE_SUB and not self.norm.normalize_sub(c.additional)
        ):
            return None
        if self.style.family == "m3":
            raise SchemaError(
                "minimax_m3_xml writes declared property names only",
                "additionalProperties",
                pointer,
            )
        key = self.free_key(declared, hint)
        bodies = self.typed_bodies(c.additional, hint + "_extra", f"{pointer}/additionalProperties")
        if not bodies:
            return None
        if self.style.family == "params":
            style = self.style

            def head(tag: str) -> str:
                return f"{ebnf_literal(style.key_open)} {key} {ebnf_literal(style.key_close + tag)}"

            return self.parameter(head, bodies, hint + "_extra")
        return self.json.add_rule(hint + "_extra", f'{key} ws ":" ws {self.union(bodies, hint)}')

    def free_key(self, declared: List[str], hint: str) -> str:
        """Undeclared names: the style's name syntax minus the declared names and exclusions."""
        expr = f"({self.style.free_key})"
        if declared:
            expr += f" - ({' | '.join(ebnf_literal(self.style.escape(n)) for n in declared)})"
        if self.excludes:
            expr += f" - {containing(self.excludes)}"
        return self.json.add_rule(hint + "_key", expr)

    def member_list(
        self, c: Conj, members: List[Tuple[str, bool]], extra: Optional[str], hint: str
    ) -> Optional[str]:
        """Members in schema order (the emitter's member chain) or in any order."""
        lay = self.object_layout
        lo, hi = c.min_properties, c.max_properties
        if hi is not None and lo > hi:
            return None
        if self.any_order and (len(members) > 1 or (members and extra is not None)):
            return self.json.object_any_order(c, lay, members, extra, hint)
        if max(lo, hi or 0) > MAX_COUNT_STATES:
            raise SchemaError(
                f"property counts above {MAX_COUNT_STATES} are not supported",
                "maxProperties" if hi is not None else "minProperties",
                c.origin.get("maxProperties") or c.origin.get("minProperties", ""),
            )
        chain = _MemberChain(self.json, hint, members, extra, lay.item_sep, lo, hi)
        # Fill the chain's memo from the last member back, only with the entries
        # first(0) reaches, so no call recurses deeper than a level (the calling
        # order of ObjectEmitter.object).
        top = max(1, lo if hi is None else hi + 1)
        required_flags = [required for _, required in members]
        required_before = sum(required_flags)
        for i in range(len(members), 0, -1):
            for count in range(min(max(1, required_before), top), min(i, top) + 1):
                chain.after(i, count)
            required_before -= required_flags[i - 1]
        first_required = required_flags.index(True) if any(required_flags) else len(members)
        for i in range(first_required, -1, -1):
            chain.first(i)
        nonempty = chain.first(0)
        forms = [f"{lay.open_object} {nonempty} {lay.close_object}"] if nonempty is not None else []
        if lo == 0 and not any(required_flags):
            forms.append(lay.empty_object)
        return "(" + " | ".join(forms) + ")" if forms else None

    # --- arrays ----------------------------------------------------------------------------

    def array(self, c: Conj, hint: str, pointer: str) -> Optional[str]:
        """The arrays of record ``c`` (at ``pointer``): M3 items, Cohere list items, Gemma lists."""
        for keyword, present in (
            ("contains", bool(c.contains)),
            ("uniqueItems", c.unique_items and (c.max_items is None or c.max_items > 1)),
            ("not", any(isinstance(v, list) for v in c.excluded)),
        ):
            if present:
                raise SchemaError(
                    f"{keyword} on arrays is not supported in {self.style.name}", keyword, pointer
                )
        lo, hi = c.min_items, c.max_items
        closed = c.items == TRUE_SUB and c.prefix and not c.all_items_evaluated
        positions = [
            self.item(p, f"{hint}_{i}", f"{pointer}/prefixItems/{i}")
            for i, p in enumerate(c.prefix)
        ]
        item = None if closed else self.item(c.items, f"{hint}_item", f"{pointer}/items")
        limit = next((i for i, p in enumerate(positions) if p is None), None)
        if limit is None and item is None:
            limit = len(positions)
        if limit is not None:
            hi = limit if hi is None else min(hi, limit)
        if hi is not None and lo > hi:
            return None
        _, lo, hi = self.json.checked_counts(c, lo, hi)
        return self.json.array_body(self.array_layout, lo, hi, positions, item)

    def item(self, sub: Sub, hint: str, where: str) -> Optional[str]:
        """One array element: M3's ``item`` element, a Cohere unnamed parameter, a value."""
        bodies = self.typed_bodies(sub, hint, where)
        if not bodies:
            return None
        if self.style.family == "params":
            opener = self.style.item_open
            return self.parameter(lambda tag: ebnf_literal(opener + tag), bodies, hint)
        return self.json.add_rule(hint, self.entry(None, self.union(bodies, hint)))
