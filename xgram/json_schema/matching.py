"""Deciding ``pattern`` and ``format`` on known strings with the grammar's own regex engine.

The converter sometimes has to know whether a concrete string (a property name,
an ``enum`` member) matches a pattern. It asks the same compiled regex the
grammar uses, so a name routed by ``patternProperties`` here is routed the same
way when the model writes it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Sequence

from .. import _core
from .._compile_scope import check_compile
from ..errors import GrammarError, SchemaError
from ..grammar_text import handle_accepts, parse_ebnf


@lru_cache(maxsize=4096)
def _string_grammar(regex: str, search: bool) -> _core.Grammar:
    ebnf, _, max_len, _ = _core.regex_to_json_string(regex, search, True, 0, -1)
    if max_len == -2:
        return parse_ebnf('root ::= "\\"" [^\\x00-\\U0010FFFF]')  # never used: empty
    return parse_ebnf('root ::= "\\"" (' + ebnf + ') "\\""')


@lru_cache(maxsize=4096)
def patterns_may_overlap(a: str, b: str) -> bool:
    """Whether some string matches both patterns (JSON Schema semantics).

    Decided on the automaton: the product of the two patterns' DFAs (EBNF ``&``)
    either accepts some string or cannot complete. True when unsure (an error or a
    budget), which only costs a region that matches nothing.
    """
    if a == b:
        return True
    try:
        left = _core.regex_to_json_string(a, True, False, 0, -1)
        right = _core.regex_to_json_string(b, True, False, 0, -1)
        if left[2] == -2 or right[2] == -2:
            return False
        handle_accepts(parse_ebnf(f"root ::= ({left[0]}) & ({right[0]})"), "")
    except GrammarError as e:
        return "accepts no string" not in str(e)
    except Exception:  # noqa: BLE001 - a budget or anything else: assume they overlap
        check_compile()  # unless the compile itself must stop (deadline, cancel)
        return True
    return True


def patterns_within(patterns: Sequence[str], outer: str) -> bool:
    """Whether every string matching all ``patterns`` (search semantics) fully matches ``outer``.

    Decided on the automaton: the patterns' product less ``outer`` accepts no
    string. False when unsure (an error or a budget): the caller then keeps the
    constraint ``outer`` stands for.
    """
    try:
        operands = []
        for pattern in patterns:
            content, _, max_length = _core.regex_to_json_string(pattern, True, False, 0, -1)[:3]
            if max_length == -2:
                return True  # matches no string at all
            operands.append(f"({content})")
        if not operands:
            return False
        whole = _core.regex_to_json_string(outer, False, False, 0, -1)[0]
        handle_accepts(parse_ebnf(f"root ::= {' & '.join(operands)} - ({whole})"), "")
    except GrammarError as e:
        return "accepts no string" in str(e)
    except Exception:  # noqa: BLE001 - a budget or anything else: not known to be within
        check_compile()  # unless the compile itself must stop (deadline, cancel)
        return False
    return False


def pattern_matches(pattern: str, text: str) -> bool:
    """Whether ``text`` contains a match of ECMA-262 ``pattern`` (JSON Schema semantics).

    A pattern that parses but matches no string at all (``a(?=b)c``) matches no
    ``text``: its grammar, which cannot complete, is only found out when matching.
    """
    try:
        grammar = _string_grammar(pattern, True)
    except GrammarError as e:
        raise SchemaError(f"regex {pattern!r}: {e}", "pattern") from None
    try:
        return handle_accepts(grammar, json.dumps(text, ensure_ascii=False))
    except GrammarError as e:
        if "accepts no string" in str(e):
            return False
        raise SchemaError(f"regex {pattern!r}: {e}", "pattern") from None


def check_key_pattern(pattern: str, pointer: str) -> None:
    """Raise SchemaError naming the ``patternProperties`` key ``pattern`` if it does not parse.

    Parameters
    ----------
    pattern : str
        The key, an ECMA-262 regex.
    pointer : str
        JSON pointer of the schema object holding ``patternProperties``.

    """
    try:
        _string_grammar(pattern, True)
    except GrammarError as e:
        raise SchemaError(f"key {pattern!r}: {e}", "patternProperties", pointer) from None


def format_matches(name: str, text: str) -> bool:
    """Whether ``text`` is valid for format ``name`` (True for formats not implemented)."""
    from .formats import format_grammar, format_grammar_matches, format_regex  # noqa: PLC0415

    regex = format_regex(name)
    if regex is None:
        if format_grammar(name) is not None:
            return format_grammar_matches(name, text)
        return True
    return handle_accepts(_string_grammar(regex, False), json.dumps(text, ensure_ascii=False))
