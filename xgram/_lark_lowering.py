"""Lark grammar text to xgram EBNF: the lowering behind :mod:`xgram.lark` (documented there)."""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Set, Tuple

from . import _core
from ._lark_regex import embed_regex
from ._lark_syntax import (
    CharRange,
    Choice,
    Definition,
    Document,
    Literal,
    Node,
    Reference,
    Regex,
    Repeat,
    Sequence,
    is_terminal_name,
    parse_lark,
    raise_at,
)
from .errors import GrammarError
from .grammar_text import parse_ebnf

__all__ = ["COMMON_TERMINALS", "lark_grammar_handle", "lark_to_ebnf"]

# Lark's common terminals, with the languages XGrammar 0.2.9 gives them.
_FLOAT = r"([0-9]+\.[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+"
COMMON_TERMINALS: Dict[str, str] = {
    "DIGIT": r"[0-9]",
    "HEXDIGIT": r"[a-fA-F0-9]",
    "INT": r"[0-9]+",
    "SIGNED_INT": r"[+-]?[0-9]+",
    "DECIMAL": r"[0-9]+\.[0-9]*|\.[0-9]+",
    "_EXP": r"[eE][+-]?[0-9]+",
    "FLOAT": _FLOAT,
    "SIGNED_FLOAT": rf"[+-]?({_FLOAT})",
    "NUMBER": rf"[0-9]+|{_FLOAT}",
    "SIGNED_NUMBER": rf"[+-]?([0-9]+|{_FLOAT})",
    "ESCAPED_STRING": r'"([^"\\]|\\.)*"',
    "LCASE_LETTER": r"[a-z]",
    "UCASE_LETTER": r"[A-Z]",
    "LETTER": r"[A-Za-z]",
    "WORD": r"[A-Za-z]+",
    "CNAME": r"[_A-Za-z][_A-Za-z0-9]*",
    "WS_INLINE": r"[ \t]+",
    "WS": r"[ \t\f\r\n]+",
    "CR": r"\r",
    "LF": r"\n",
    "NEWLINE": r"(\r?\n)+",
    "SH_COMMENT": r"#[^\n]*",
    "CPP_COMMENT": r"//[^\n]*",
    "C_COMMENT": r"/\*[^*]*\*+([^/*][^*]*\*+)*/",
    "SQL_COMMENT": r"--[^\n]*",
}
_GRAMMAR_OPTIONS = ("allow_initial_skip", "no_forcing", "allow_invalid_utf8")


def lark_grammar_handle(lark_text: str) -> _core.Grammar:
    """Lower ``lark_text`` and parse the EBNF: the grammar of :func:`xgram.lark.grammar_from_lark`.

    Raises
    ------
    GrammarError
        As :func:`lark_to_ebnf`, and for grammar-wide problems of the lowered grammar.

    """
    ebnf = lark_to_ebnf(lark_text)
    try:
        return parse_ebnf(ebnf)
    except GrammarError as error:
        # What survives the checks above is a grammar-wide property, such as a start
        # rule that can never complete; it has no single place in the Lark text.
        raise GrammarError(f"Lark grammar: {error}") from None


def lark_to_ebnf(lark_text: str) -> str:
    """The xgram EBNF (root rule ``root``) equivalent to the Lark grammar ``lark_text``.

    Rules and terminals keep their Lark names (one named ``root`` is renamed); helper rules
    get fresh names. ``Grammar.from_ebnf`` reads the result.

    Raises
    ------
    GrammarError
        As :func:`xgram.lark.grammar_from_lark`.

    """
    if not isinstance(lark_text, str):
        raise TypeError(f"lark_text must be str, got {type(lark_text).__name__}")
    return _Lowering(lark_text, parse_lark(lark_text)).run()


class _Lowering:
    """Turns a parsed Lark document into EBNF text, checking names on the way."""

    def __init__(self, source: str, document: Document) -> None:
        self.source = source
        self.document = document
        self.definitions: Dict[str, Definition] = {}
        self.taken: Set[str] = set()
        self.ebnf_names: Dict[str, str] = {}
        self.rules: List[Tuple[str, str]] = []
        self.skip: Optional[str] = None  # the rule matching ignored text, if any
        self.regex_cache: Dict[Tuple[str, str], str] = {}

    def run(self) -> str:
        self.expand_imports()
        self.index_definitions()
        self.check_references()
        allow_initial_skip = self.read_options()
        if self.document.ignores:
            self.skip = self.fresh_name("lark_ignore")
        # The EBNF root is 'root'; a Lark definition of that name gets another one.
        for name in self.definitions:
            self.ebnf_names[name] = self.fresh_name(name) if name == "root" else name
        start = self.ebnf_names["start"]
        initial_skip = f"{self.skip} " if allow_initial_skip and self.skip else ""
        lines = [f"root ::= {initial_skip}{start}"]
        for definition in self.document.definitions:
            body, _ = self.lower(definition.body, definition.is_terminal)
            lines.append(f"{self.ebnf_names[definition.name]} ::= {body}")
        if self.skip:
            ignored = [self.lower(node, terminal=True)[0] for node in self.document.ignores]
            lines.append(f"{self.skip} ::= ({' | '.join(ignored)})*")
        lines.extend(f"{name} ::= {body}" for name, body in self.rules)
        return "\n".join(lines) + "\n"

    # Names ---------------------------------------------------------------------------------
    def fresh_name(self, wanted: str) -> str:
        """``wanted``, or ``wanted_N``: a rule name no Lark definition or helper uses."""
        name, suffix = wanted, 0
        while name in self.taken or name == "root":
            suffix += 1
            name = f"{wanted}_{suffix}"
        self.taken.add(name)
        return name

    def expand_imports(self) -> None:
        for item in self.document.imports:
            if item.library != "common":
                raise_at(
                    self.source,
                    item.location,
                    f"%import {item.library}: only Lark's 'common' terminals can be imported",
                )
            if item.name not in COMMON_TERMINALS:
                raise_at(self.source, item.location, f"unknown common terminal {item.name!r}")
            if not is_terminal_name(item.local_name):
                raise_at(self.source, item.location, f"{item.local_name!r} is not a terminal name")
            body = Regex(COMMON_TERMINALS[item.name], "", item.location)
            self.document.definitions.append(Definition(item.local_name, True, body, item.location))

    def index_definitions(self) -> None:
        # Imports were appended last; in source order, the second of two definitions is blamed.
        in_source_order = sorted(
            self.document.definitions, key=lambda d: (d.location.line, d.location.column)
        )
        for definition in in_source_order:
            if definition.name in self.definitions:
                kind = "terminal" if definition.is_terminal else "rule"
                raise_at(
                    self.source, definition.location, f"{kind} {definition.name!r} is defined twice"
                )
            self.definitions[definition.name] = definition
            self.taken.add(definition.name)
        start = self.definitions.get("start")
        if start is None:
            raise GrammarError("the Lark grammar has no 'start' rule")
        if start.is_terminal:
            raise_at(self.source, start.location, "'start' must be a rule")

    def read_options(self) -> bool:
        """Apply the merged ``%grammar_options``; return ``allow_initial_skip``."""
        allow_initial_skip = False
        for options, location in self.document.options:
            for key, value in options.items():
                if key not in _GRAMMAR_OPTIONS:
                    raise_at(self.source, location, f"unknown %grammar_options option {key!r}")
                if not isinstance(value, bool):
                    raise_at(self.source, location, f"%grammar_options {key!r} must be a boolean")
                if key == "allow_initial_skip":
                    allow_initial_skip = allow_initial_skip or value
                elif value:
                    raise_at(self.source, location, f"%grammar_options {key!r} is not supported")
        return allow_initial_skip

    # Checks --------------------------------------------------------------------------------
    def check_references(self) -> None:
        """Every name is defined; terminals use only terminals, and not recursively."""
        for definition in self.document.definitions:
            for reference in _references(definition.body):
                self.resolve(reference, in_terminal=definition.is_terminal)
        for node in self.document.ignores:
            for reference in _references(node):
                self.resolve(reference, in_terminal=True)
        finished: Set[str] = set()
        for definition in self.document.definitions:
            if definition.is_terminal:
                self.check_terminal_cycle(definition, [], finished)

    def resolve(self, reference: Reference, in_terminal: bool) -> Definition:
        definition = self.definitions.get(reference.name)
        if definition is None:
            kind = "terminal" if is_terminal_name(reference.name) else "rule"
            raise_at(self.source, reference.location, f"unknown {kind} {reference.name!r}")
        if in_terminal and not definition.is_terminal:
            raise_at(
                self.source,
                reference.location,
                f"a terminal cannot use the rule {reference.name!r} (terminals are regular)",
            )
        return definition

    def check_terminal_cycle(self, terminal: Definition, path: List[str], done: Set[str]) -> None:
        if terminal.name in done:
            return
        if terminal.name in path:
            cycle = " -> ".join(path[path.index(terminal.name) :] + [terminal.name])
            raise_at(self.source, terminal.location, f"terminal defined by itself: {cycle}")
        inner_path = path + [terminal.name]
        for reference in _references(terminal.body):
            self.check_terminal_cycle(self.definitions[reference.name], inner_path, done)
        done.add(terminal.name)

    # Lowering ------------------------------------------------------------------------------
    def lower(self, node: Node, terminal: bool) -> Tuple[str, bool]:
        """EBNF for ``node`` in a rule (in a terminal with ``terminal``), and its atomicity.

        An atomic expression may take a quantifier as it is; the others are sequences or
        choices, which need parentheses for that.
        """
        if isinstance(node, Sequence):
            # Items are atomic or flat sequences, so they join without parentheses.
            items = [self.lower(item, terminal) for item in node.items]
            kept = [(text, atomic) for text, atomic in items if text != '""'] or [('""', True)]
            if len(kept) == 1:
                return kept[0]
            return " ".join(text for text, _ in kept), False
        if isinstance(node, Choice):
            texts = [self.lower(item, terminal)[0] for item in node.alternatives]
            return "(" + " | ".join(texts) + ")", True
        if isinstance(node, Repeat):
            text, atomic = self.lower(node.item, terminal)
            if text == '""':
                return text, True
            grouped = text if atomic else f"({text})"
            return grouped + _quantifier(node.low, node.high), True
        if isinstance(node, Reference):
            is_lexeme = self.definitions[node.name].is_terminal
            return self.with_skip(self.ebnf_names[node.name], is_lexeme and not terminal)
        if isinstance(node, Literal):
            return self.with_skip(self.literal(node), not terminal and node.text != "")
        if isinstance(node, CharRange):
            text = f"[{_class_char(node.first)}-{_class_char(node.last)}]"
            return self.with_skip(text, not terminal)
        return self.with_skip(self.regex(node), not terminal)

    def with_skip(self, text: str, skip_after: bool) -> Tuple[str, bool]:
        """A lexeme's (atomic) ``text``, then in a rule the ignored-text rule, as in XGrammar."""
        if skip_after and self.skip:
            return f"{text} {self.skip}", False
        return text, True

    def literal(self, node: Literal) -> str:
        if not node.case_insensitive:
            return _ebnf_string(node.text)
        pieces: List[str] = []
        for run in re.findall(r"[A-Za-z]|[^A-Za-z]+", node.text):
            if run.isascii() and run.isalpha():
                pieces.append(f"[{run.lower()}{run.upper()}]")
            elif any(char.lower() != char.upper() for char in run):
                raise_at(
                    self.source,
                    node.location,
                    "case-insensitive literals may only hold ASCII letters (as in XGrammar)",
                )
            else:
                pieces.append(_ebnf_string(run))
        if len(pieces) == 1:
            return pieces[0]
        return "(" + " ".join(pieces) + ")" if pieces else '""'

    def regex(self, node: Regex) -> str:
        key = (node.pattern, node.flags)
        if key not in self.regex_cache:
            embedded = embed_regex(node, self.source, self.fresh_name)
            self.rules.extend(embedded.rules)
            self.regex_cache[key] = embedded.expression
        return self.regex_cache[key]


def _references(node: Node) -> List[Reference]:
    """The names ``node`` uses, in order."""
    if isinstance(node, Reference):
        return [node]
    if isinstance(node, Sequence):
        return [ref for item in node.items for ref in _references(item)]
    if isinstance(node, Choice):
        return [ref for item in node.alternatives for ref in _references(item)]
    if isinstance(node, Repeat):
        return _references(node.item)
    return []


def _quantifier(low: int, high: Optional[int]) -> str:
    shorthand = {(0, 1): "?", (0, None): "*", (1, None): "+"}
    if (low, high) in shorthand:
        return shorthand[(low, high)]
    return f"{{{low},}}" if high is None else f"{{{low},{high}}}"


def _escape_char(char: str) -> str:
    """One code point as xgram's EBNF writes it inside a string or a class."""
    if char in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char]
    if char.isprintable() and char != "\\":
        return char
    if char == "\\":
        return "\\\\"
    return f"\\u{ord(char):04x}" if ord(char) < 0x10000 else f"\\U{ord(char):08x}"


def _ebnf_string(text: str) -> str:
    if not text:
        return '""'
    return '"' + "".join('\\"' if char == '"' else _escape_char(char) for char in text) + '"'


def _class_char(char: str) -> str:
    return "\\" + char if char in "]^-[" else _escape_char(char)
