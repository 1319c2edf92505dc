"""JSON schemas and regexes as grammars for the CLI (see cli.py).

Schema options, loading a schema or a regex, and errors located in the schema file.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from ._cli_base import (
    EXIT_FAILURE,
    EXIT_OK,
    CliError,
    _display_name,
    _error,
    _line_column,
    _read_text,
)
from ._cli_excerpt import _excerpt
from .errors import GrammarError, SchemaError
from .grammar import Grammar

_SCHEMA_OPTION_NAMES: Dict[str, str] = {
    "strict": "--strict",
    "any_order": "--any-order",
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


def _add_schema_options(
    parser: argparse.ArgumentParser, title: str, strict_default: bool = False
) -> None:
    """Add the options of the JSON schema conversion, in a group called ``title``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser of a command that takes a JSON schema.
    title : str
        Heading of the options in the command's ``--help``.
    strict_default : bool, default False
        Whether the command converts in strict mode when neither ``--strict``
        nor ``--no-strict`` is given (only said in the help here; pass the same
        value to :func:`_schema_options`).

    """
    group = parser.add_argument_group(title)
    strict = group.add_mutually_exclusive_group()
    default_here = " (the default here)"
    strict.add_argument(
        "--strict",
        dest="strict",
        action="store_const",
        const=True,
        default=None,
        help="XGrammar's strict mode: objects that declare their members and arrays with "
        "'prefixItems' but no 'items' admit nothing undeclared" + default_here * strict_default,
    )
    strict.add_argument(
        "--no-strict",
        dest="strict",
        action="store_const",
        const=False,
        help="the schema's exact semantics" + default_here * (not strict_default),
    )
    group.add_argument(
        "--any-order",
        action="store_const",
        const=True,
        default=None,
        help="accept an object's properties in any order (default: in the schema's order, "
        "declared properties first, then the others)",
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
        "--general-unicode-escapes",
        dest="unicode_escapes",
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


def _schema_options(args: argparse.Namespace, strict_default: bool = False) -> Dict[str, Any]:
    """Keyword arguments of :meth:`Grammar.from_json_schema` for the parsed options.

    Parameters
    ----------
    args : argparse.Namespace
        Arguments with the options of :func:`_add_schema_options`.
    strict_default : bool, default False
        ``strict_mode`` when neither ``--strict`` nor ``--no-strict`` is given.

    Returns
    -------
    dict
        The options by keyword name, every one of them given.

    Raises
    ------
    CliError
        When ``--max-whitespace`` comes with a fixed layout.

    """
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
        "strict_mode": strict_default if args.strict is None else bool(args.strict),
        "max_whitespace_cnt": args.max_whitespace,
        "lenient": bool(args.lenient),
        "general_unicode_escapes": bool(args.unicode_escapes),
        "any_order": bool(args.any_order),
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
    text = _read_text(path)
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


def _explain_schema(path: str, options: Dict[str, Any], as_json: bool) -> int:
    """Print what xgram does with each keyword of the schema at ``path`` (``--explain``).

    Returns
    -------
    int
        0 when every keyword is enforced exactly (or is an annotation, or
        unknown and ignored), 1 when a constraint is relaxed or the schema refused.

    """
    from .json_schema.explain import explain_json_schema  # noqa: PLC0415 (as in _load_schema)

    name = _display_name(path)
    text = _read_text(path)
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as e:  # not a schema to explain: an error, as without --explain
        raise _located_error(name, text, e.pos, f"not valid JSON: {e.msg}") from None
    explanation = explain_json_schema(schema, **options)
    if as_json:
        report = {"schema": name, "options": options, **explanation.to_json()}
        sys.stdout.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(f"{name}: {_cli_wording(str(explanation))}\n")
    sys.stdout.flush()
    return EXIT_OK if explanation.is_exact else EXIT_FAILURE


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
