"""Reading Lark grammar text: the lexer, the parser and the syntax tree (see :mod:`xgram.lark`).

The dialect is the one XGrammar 0.2.9's ``Grammar.from_lark`` reads (llguidance's Lark):
a grammar is a list of items, one per line, and an alternative continues on the next line
only when that line starts with ``|``. Constructs this front-end refuses (llguidance
extensions, priorities, templates, most directives) are refused here, where their position
is known, with a :class:`~xgram.GrammarError` naming them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, NoReturn, Optional, Tuple, Union

from .errors import GrammarError


@dataclass(frozen=True)
class Location:
    """A 1-based position in the Lark text (the column counts code points)."""

    line: int
    column: int


def raise_at(source: str, location: Location, message: str) -> NoReturn:
    """Raise a GrammarError for ``location``, quoting its line with a caret under the spot."""
    lines = re.split(r"\r\n|\r|\n", source)
    text = lines[location.line - 1] if location.line <= len(lines) else ""
    # Keep tabs in the caret's indent so that the caret lines up under a tabbed line.
    indent = "".join("\t" if ch == "\t" else " " for ch in text[: location.column - 1])
    raise GrammarError(
        f"line {location.line}, column {location.column}: {message}\n  {text}\n  {indent}^",
        location.line,
        location.column,
    )


# Syntax tree ------------------------------------------------------------------------------
@dataclass
class Literal:
    """A string literal ``"text"``, case-insensitive with the ``i`` flag."""

    text: str
    case_insensitive: bool
    location: Location


@dataclass
class CharRange:
    """A character range ``"a".."z"``: one character from ``first`` to ``last``."""

    first: str
    last: str
    location: Location


@dataclass
class Regex:
    """A regular expression ``/pattern/flags``."""

    pattern: str
    flags: str
    location: Location


@dataclass
class Reference:
    """A use of a rule or terminal by name."""

    name: str
    location: Location


@dataclass
class Sequence:
    """Items matched one after the other; no items matches the empty string."""

    items: List[Node]
    location: Location


@dataclass
class Choice:
    """One of the alternatives."""

    alternatives: List[Node]
    location: Location


@dataclass
class Repeat:
    """``item`` repeated ``low`` to ``high`` times (``high`` None: unbounded)."""

    item: Node
    low: int
    high: Optional[int]
    location: Location


Node = Union[Literal, CharRange, Regex, Reference, Sequence, Choice, Repeat]


@dataclass
class Definition:
    """A rule (lowercase name) or terminal (uppercase name) and its body."""

    name: str
    is_terminal: bool
    body: Node
    location: Location


@dataclass
class Import:
    """``%import common.NAME [-> LOCAL]``."""

    library: str
    name: str
    local_name: str
    location: Location


@dataclass
class Document:
    """Everything a Lark grammar text declares, in source order."""

    definitions: List[Definition] = field(default_factory=list)
    ignores: List[Node] = field(default_factory=list)
    imports: List[Import] = field(default_factory=list)
    options: List[Tuple[Dict[str, Any], Location]] = field(default_factory=list)


def is_terminal_name(name: str) -> bool:
    """Lark's convention: a name whose first letter (after ``_``s) is uppercase is a terminal."""
    letters = name.lstrip("_")
    return bool(letters) and letters[0].isupper()


# Lexer ------------------------------------------------------------------------------------
@dataclass
class Token:
    """One lexeme of the Lark text; ``kind`` is a word for values, the text for punctuation."""

    kind: str
    text: str
    location: Location
    flags: str = ""
    value: Any = None


# Directives of Lark and llguidance that this front-end does not implement, and why.
_REFUSED_DIRECTIVES = {
    "%declare": "%declare (terminals declared without a definition) is not supported",
    "%override": "%override is not supported",
    "%extend": "%extend is not supported",
    "%json": "%json (an inline JSON schema, an llguidance extension) is not supported",
    "%lark": "nested %lark grammars (an llguidance extension) are not supported",
    "%llguidance": "%llguidance options are not supported",
    "%regex": "%regex (llguidance's structured regex) is not supported",
    "%if": "parametric %if conditions are not supported",
}
# Longest first, so that '->', '::' and '..' are not read as two tokens.
_PUNCTUATION = ("->", "::", "..", *":,.=()[]{}|&~?*+")
_NAME_START = re.compile(r"[A-Za-z_]")
# A name may hold '-' (as in XGrammar), but not the '-' of a following '->'.
_NAME = re.compile(r"[A-Za-z_](?:[A-Za-z0-9_]|-(?!>))*")
_NUMBER = re.compile(r"[0-9]+")
_REGEX_FLAGS = re.compile(r"[A-Za-z]*")
_DIRECTIVE = re.compile(r"%[A-Za-z_]*")


class Lexer:
    """Split Lark text into tokens; comments (``//`` and ``#``) and blanks are dropped."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.position = 0
        self.line = 1
        self.line_start = 0
        self.tokens: List[Token] = []

    def location(self) -> Location:
        """The line and column of the current position."""
        return Location(self.line, self.position - self.line_start + 1)

    def tokenize(self) -> List[Token]:
        """Lex the whole text; the list ends with an ``end`` token."""
        source = self.source
        while self.position < len(source):
            char = source[self.position]
            if char in " \t\f":
                self.position += 1
            elif char in "\r\n":
                self.tokens.append(Token("newline", "\n", self.location()))
                self.position += 2 if source.startswith("\r\n", self.position) else 1
                self.line += 1
                self.line_start = self.position
            elif char == "#" or source.startswith("//", self.position):
                while self.position < len(source) and source[self.position] not in "\r\n":
                    self.position += 1
            else:
                self._lex_item(char)
        self.tokens.append(Token("end", "", self.location()))
        return self.tokens

    def _lex_item(self, char: str) -> None:
        source, start = self.source, self.position
        location = self.location()
        if char == '"':
            self._lex_string(location)
        elif char == "/":
            self._lex_regex(location)
        elif char == "%":
            self._lex_directive(location)
        elif char in "?!" and _NAME_START.match(source, start + 1):
            # '?rule' and '!rule' only shape Lark's parse trees; the prefix is dropped.
            match = _NAME.match(source, start + 1)
            assert match is not None
            self._push("name", match.group(), match.end(), location)
        elif _NAME_START.match(char):
            match = _NAME.match(source, start)
            assert match is not None
            self._push("name", match.group(), match.end(), location)
        elif char.isdigit() and char.isascii():
            match = _NUMBER.match(source, start)
            assert match is not None
            self._push("number", match.group(), match.end(), location)
        elif char == "<":
            raise_at(
                source, location, "special-token elements (<|...|>, <[...]>) are not supported"
            )
        elif char == "@":
            raise_at(source, location, "named grammar references (@name) are not supported")
        else:
            for text in _PUNCTUATION:
                if source.startswith(text, start):
                    self._push(text, text, start + len(text), location)
                    return
            raise_at(source, location, f"unexpected character {char!r}")

    def _push(self, kind: str, text: str, end: int, location: Location, **extra: Any) -> None:
        self.tokens.append(Token(kind, text, location, **extra))
        self.position = end

    def _scan_to(self, closer: str, what: str, location: Location) -> int:
        """Index of the first unescaped ``closer`` on this line after the opening character."""
        index = self.position + 1
        while index < len(self.source) and self.source[index] not in "\r\n":
            if self.source[index] == "\\" and self.source[index + 1 : index + 2] not in (
                "\r",
                "\n",
            ):
                index += 2
                continue
            if self.source[index] == closer:
                return index
            index += 1
        raise_at(self.source, location, f"unterminated {what}")

    def _lex_string(self, location: Location) -> None:
        close = self._scan_to('"', "string literal", location)
        body = self.source[self.position + 1 : close]
        end = close + 1
        case_insensitive = _CASE_FLAG.match(self.source, end) is not None
        text = decode_string(self.source, body, location)
        self._push("string", text, end + case_insensitive, location, flags="i" * case_insensitive)

    def _lex_regex(self, location: Location) -> None:
        close = self._scan_to("/", "regular expression", location)
        pattern = self.source[self.position + 1 : close]
        flags_match = _REGEX_FLAGS.match(self.source, close + 1)
        assert flags_match is not None
        self._push("regex", pattern, flags_match.end(), location, flags=flags_match.group())

    def _lex_directive(self, location: Location) -> None:
        match = _DIRECTIVE.match(self.source, self.position)
        assert match is not None
        directive = match.group()
        if directive in ("%import", "%ignore"):
            self._push(directive, directive, match.end(), location)
        elif directive == "%grammar_options":
            self._lex_options(location, match.end())
        elif directive in _REFUSED_DIRECTIVES:
            raise_at(self.source, location, _REFUSED_DIRECTIVES[directive])
        else:
            raise_at(self.source, location, f"unknown directive {directive}")

    def _lex_options(self, location: Location, end: int) -> None:
        """``%grammar_options {...}``: a JSON object, which may span lines."""
        value_start = end
        while value_start < len(self.source) and self.source[value_start].isspace():
            value_start += 1
        try:
            value, value_end = json.JSONDecoder().raw_decode(self.source, value_start)
        except json.JSONDecodeError as error:
            raise_at(self.source, location, f"%grammar_options needs a JSON object: {error.msg}")
        if not isinstance(value, dict):
            raise_at(self.source, location, "%grammar_options needs a JSON object")
        self._push("%grammar_options", "%grammar_options", value_end, location, value=value)
        # Count the lines the JSON value spanned, so that later locations stay right.
        spanned = self.source[end:value_end]
        newlines = spanned.count("\n") + spanned.count("\r") - spanned.count("\r\n")
        if newlines:
            self.line += newlines
            self.line_start = max(spanned.rfind("\n"), spanned.rfind("\r")) + end + 1


_CASE_FLAG = re.compile(r"i(?![A-Za-z0-9_])")
_HEX_ESCAPE = re.compile(r"\\(\\|x([0-9A-Fa-f]{2}))")


def decode_string(source: str, body: str, location: Location) -> str:
    r"""The text of a string literal: JSON escapes, plus Lark's ``\xHH``."""
    # '\xHH' is not JSON: spell it '\u00HH' first, leaving an escaped backslash alone.
    body = _HEX_ESCAPE.sub(lambda m: "\\u00" + m.group(2) if m.group(2) else m.group(), body)
    try:
        text = json.loads(f'"{body}"')
    except json.JSONDecodeError as error:
        raise_at(source, location, f"invalid string literal: {error.msg}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise_at(source, location, "invalid string literal: it holds a lone surrogate")
    return text


# Parser -----------------------------------------------------------------------------------
_SEQUENCE_ENDS = {"newline", "|", ")", "]", "}", "end", "->", "&"}


class Parser:
    """Recursive descent over the tokens, building a :class:`Document`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = Lexer(source).tokenize()
        self.index = 0

    # Token helpers
    def peek(self, offset: int = 0) -> Token:
        """The token ``offset`` places ahead (the ``end`` token past the end)."""
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def accept(self, kind: str) -> Optional[Token]:
        """Consume and return the next token if it is of ``kind``."""
        token = self.peek()
        if token.kind != kind:
            return None
        self.index += 1
        return token

    def expect(self, kind: str, what: str) -> Token:
        """Consume a token of ``kind`` or fail saying ``what`` was expected."""
        token = self.accept(kind)
        if token is None:
            self.fail(f"expected {what}, found {describe(self.peek())}")
        return token

    def fail(self, message: str, token: Optional[Token] = None) -> NoReturn:
        """Raise a GrammarError at ``token`` (default: the next one)."""
        raise_at(self.source, (token or self.peek()).location, message)

    # Grammar items
    def parse(self) -> Document:
        """Parse the whole text."""
        document = Document()
        while self.accept("newline"):
            pass
        while self.peek().kind != "end":
            token = self.peek()
            if self.accept("%import"):
                self.parse_import(document, token.location)
            elif self.accept("%ignore"):
                if self.peek().kind in ("newline", "end"):
                    self.fail("expected what to ignore after %ignore")
                document.ignores.append(self.parse_choice())
            elif self.accept("%grammar_options"):
                document.options.append((token.value, token.location))
            else:
                document.definitions.append(self.parse_definition())
            if self.peek().kind not in ("newline", "end"):
                self.fail(f"expected the end of the line, found {describe(self.peek())}")
            while self.accept("newline"):
                pass
        return document

    def parse_import(self, document: Document, location: Location) -> None:
        path = [self.expect("name", "a library name after %import").text]
        while self.accept("."):
            path.append(self.expect("name", "a name after '.'").text)
        if self.accept("("):
            library = ".".join(path)
            while True:
                name = self.expect("name", "a terminal name").text
                document.imports.append(Import(library, name, name, location))
                if not self.accept(","):
                    break
            self.expect(")", "')' closing the import list")
            return
        if len(path) < 2:
            self.fail("expected '.NAME' or '(NAMES)' after the library name")
        local_name = path[-1]
        if self.accept("->"):
            local_name = self.expect("name", "a name after '->'").text
        document.imports.append(Import(".".join(path[:-1]), path[-1], local_name, location))

    def parse_definition(self) -> Definition:
        name_token = self.expect("name", "a rule or terminal name")
        name = name_token.text.lstrip("?!")
        following = self.peek()
        if following.kind == "[":
            self.fail("rule attributes (name[...]: max_tokens, lazy, capture) are not supported")
        if following.kind == ".":
            self.fail("rule and terminal priorities (NAME.N) are not supported")
        if following.kind == "{":
            self.fail("Lark templates (name{...}) are not supported")
        if following.kind == "::":
            self.fail("parametric rules (name::...) are not supported")
        self.expect(":", f"':' after the name {name!r}")
        body = self.parse_choice()
        return Definition(name, is_terminal_name(name), body, name_token.location)

    # Expressions
    def parse_choice(self) -> Node:
        location = self.peek().location
        alternatives = [self.parse_sequence()]
        while self.at_alternative_separator():
            alternatives.append(self.parse_sequence())
        if len(alternatives) == 1:
            return alternatives[0]
        return Choice(alternatives, location)

    def at_alternative_separator(self) -> bool:
        """Consume a '|' (maybe on a following line); newlines before a closing bracket go too."""
        if self.accept("|"):
            return True
        saved = self.index
        while self.accept("newline"):
            pass
        if self.accept("|"):
            return True
        if self.peek().kind not in (")", "]"):
            self.index = saved
        return False

    def parse_sequence(self) -> Node:
        location = self.peek().location
        items: List[Node] = []
        while self.peek().kind not in _SEQUENCE_ENDS:
            items.append(self.parse_item())
        if self.accept("->"):  # an alias names the parse-tree node; it matches nothing
            self.expect("name", "an alias name after '->'")
        if self.peek().kind == "&":
            self.fail("terminal intersection '&' is not supported")
        return items[0] if len(items) == 1 else Sequence(items, location)

    def parse_item(self) -> Node:
        location = self.peek().location
        if self.peek().kind == "~":
            self.fail("the complement operator '~' before an item is not supported")
        atom = self.parse_atom()
        if self.accept("?"):
            return Repeat(atom, 0, 1, location)
        if self.accept("*"):
            return Repeat(atom, 0, None, location)
        if self.accept("+"):
            return Repeat(atom, 1, None, location)
        if self.accept("~"):
            low = self.parse_count()
            high = self.parse_count() if self.accept("..") else low
            return self.checked_repeat(atom, low, high, location)
        if self.peek().kind == "{":
            if self.peek(1).kind not in ("number", ","):
                self.fail("Lark templates (name{...}) are not supported")
            self.index += 1
            low = 0 if self.peek().kind == "," else self.parse_count()
            high: Optional[int] = low
            if self.accept(","):
                high = None if self.peek().kind == "}" else self.parse_count()
            self.expect("}", "'}' closing the repetition")
            return self.checked_repeat(atom, low, high, location)
        return atom

    def parse_count(self) -> int:
        return int(self.expect("number", "a repetition count").text)

    def checked_repeat(self, atom: Node, low: int, high: Optional[int], at: Location) -> Node:
        if high is not None and high < low:
            raise_at(self.source, at, f"repetition range {low}..{high} ends below its start")
        return Repeat(atom, low, high, at)

    def parse_atom(self) -> Node:
        token = self.peek()
        if self.accept("("):
            inner = self.parse_choice()
            self.expect(")", "')' closing the group")
            return inner
        if self.accept("["):
            inner = self.parse_choice()
            self.expect("]", "']' closing the optional group")
            return Repeat(inner, 0, 1, token.location)
        if self.accept("string"):
            if not self.accept(".."):
                return Literal(token.text, token.flags == "i", token.location)
            last = self.expect("string", "a string after '..'")
            return self.char_range(token, last)
        if self.accept("regex"):
            return Regex(token.text, token.flags, token.location)
        if self.accept("name"):
            if self.peek().kind == "::":
                self.fail("parametric rules (name::...) are not supported")
            return Reference(token.text.lstrip("?!"), token.location)
        self.fail(f"expected an item (a string, regex, name or group), found {describe(token)}")

    def char_range(self, first: Token, last: Token) -> CharRange:
        for endpoint in (first, last):
            if endpoint.flags:
                self.fail("the 'i' flag is not allowed on a character range's ends", endpoint)
            if len(endpoint.text) != 1:
                self.fail("a character range's ends must be one character each", endpoint)
        if first.text > last.text:
            self.fail(f"character range {first.text!r}..{last.text!r} is reversed", first)
        return CharRange(first.text, last.text, first.location)


def describe(token: Token) -> str:
    """How a token reads in an error message."""
    if token.kind == "end":
        return "the end of the grammar"
    if token.kind == "newline":
        return "the end of the line"
    if token.kind in ("name", "number"):
        return f"{token.kind} {token.text!r}"
    if token.kind == "string":
        return f"string {json.dumps(token.text, ensure_ascii=False)}"
    if token.kind == "regex":
        return f"regex /{token.text}/"
    return repr(token.text)


def parse_lark(source: str) -> Document:
    """Parse Lark grammar text into a :class:`Document`; GrammarError on bad syntax."""
    return Parser(source).parse()
