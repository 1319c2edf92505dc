"""Exit statuses, the CLI's error type and file helpers shared by the commands (see cli.py)."""

from __future__ import annotations

import argparse
import re
import sys
from typing import BinaryIO

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
        raise CliError(_format_grammar_error(_display_name(path), e), located=True) from None


def _display_name(path: str) -> str:
    return "<stdin>" if path == STDIN_NAME else path


def _error(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
