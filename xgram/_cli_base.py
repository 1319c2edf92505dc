"""Exit statuses, the CLI's error type and file helpers shared by the commands (see cli.py)."""

from __future__ import annotations

import argparse
import re
import sys
from typing import BinaryIO, Tuple

from ._cli_excerpt import _excerpt
from .errors import GrammarError
from .grammar import Grammar

EXIT_OK = 0
"""Every input was accepted (or the command succeeded)."""
EXIT_FAILURE = 1
"""At least one input was not accepted."""
EXIT_USAGE = 2
"""Bad command line, unreadable file, or a grammar that does not load."""

STDIN_NAME = "-"
"""Input name that stands for standard input."""


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
"""The location the grammar parser puts in front of its messages."""
_OPENED_AT = re.compile(r"opened at line (\d+), column (\d+)")
"""How the parser names the opening bracket of a group it found unclosed."""


def _line_column(text: str, offset: int) -> Tuple[int, int]:
    """1-based line and column (in characters) of ``offset`` in ``text``."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _offset_of(text: str, line: int, column: int) -> int:
    """Offset in ``text`` of the 1-based ``line`` and ``column`` (columns count characters)."""
    line_start = 0
    for _ in range(line - 1):
        line_break = text.find("\n", line_start)
        if line_break < 0:
            return len(text)
        line_start = line_break + 1
    return min(line_start + max(column, 1) - 1, len(text))


def _without_parser_excerpt(message: str) -> str:
    """``message`` without the quoted line and caret the parser appends to it.

    The CLI draws its own excerpt (cut around the column on a long line, and
    possibly at another spot, see :func:`_format_grammar_error`).
    """
    lines = message.split("\n")
    if len(lines) >= 3 and lines[-1].strip() == "^":
        lines = lines[:-2]
    return "\n".join(lines)


def _format_grammar_error(path: str, error: GrammarError, text: str) -> str:
    """Render ``error`` as ``PATH:LINE:COL: error: MESSAGE`` plus an excerpt of ``text``.

    An error found at the end of the grammar (a group never closed) is shown
    at the bracket that opened the group when the message names it, otherwise
    at the end of the last line that holds something: pointing at the empty
    line after the final line break would show nothing. Library parameters in
    the message are spelled as the command-line option (``--root``).
    """
    message = _without_parser_excerpt(str(error))
    line, column = error.line, error.column
    match = _LOCATION.match(message)
    if match:
        line, column = int(match.group(1)), int(match.group(2))
        message = message[match.end() :]
    message = re.sub(r"\broot_rule_name\b", "--root", message)
    if line <= 0:
        return f"{path}: error: {message}"
    offset = _offset_of(text, line, column)
    content_end = len(text.rstrip())
    if offset >= content_end:
        opened = _OPENED_AT.search(message)
        if opened:
            line, column = int(opened.group(1)), int(opened.group(2))
            offset = _offset_of(text, line, column)
            message = message[: opened.start()] + "opened here" + message[opened.end() :]
        elif offset > content_end:
            offset = content_end
            line, column = _line_column(text, offset)
    excerpt = _excerpt(text.encode("utf-8"), len(text[:offset].encode("utf-8")))
    return "\n".join([f"{path}:{line}:{column}: error: {message}", *excerpt])


def _read_text(path: str) -> str:
    """Read a whole file as UTF-8 text without a leading byte order mark; CliError on failure."""
    data = _read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CliError(f"{_display_name(path)}: not valid UTF-8 (byte {e.start})") from None
    return text[1:] if text.startswith("\ufeff") else text


def _load_grammar(path: str, root: str) -> Grammar:
    """Read and parse the grammar file at ``path``, raising CliError on failure."""
    text = _read_text(path)
    try:
        return Grammar.from_ebnf(text, root_rule_name=root)
    except GrammarError as e:
        raise CliError(_format_grammar_error(_display_name(path), e, text), located=True) from None


def _display_name(path: str) -> str:
    return "<stdin>" if path == STDIN_NAME else path


def _error(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
