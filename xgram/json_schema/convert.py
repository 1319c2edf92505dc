"""The conversion's entry points: a schema and its options to EBNF, or to a parsed grammar."""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, List, Mapping, Optional, Tuple

from .. import _core
from ..errors import GrammarError, SchemaError, SchemaRelaxedWarning
from ..grammar_text import parse_ebnf
from ..schema_options import JsonSchemaOptions
from .emit import Emitter, base_rules
from .matching import format_matches, pattern_matches
from .normalize import Normalizer
from .resolver import (
    SchemaIndex,
    load_schema,
    without_draft4_dollar_ids,
    without_keywords_of_later_drafts,
)


@dataclass
class SchemaConversion:
    """The result of converting a schema.

    Attributes
    ----------
    ebnf : str
        The grammar, root rule ``root``.
    relaxed : list of str
        Constraints dropped because ``lenient=True`` (empty otherwise).
    notes : list of str
        Things ignored by the specification's own rules (e.g. unknown formats).
    relaxations : list of (str, str, str)
        The relaxations of ``relaxed`` as ``(keyword, pointer, message)``, the
        pointer leading to the schema object that holds the keyword.

    """

    ebnf: str
    relaxed: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    relaxations: List[Tuple[str, str, str]] = field(default_factory=list)


def json_schema_to_ebnf(
    schema: Any,
    *,
    any_whitespace: bool = True,
    indent: Optional[int] = None,
    separators: Optional[Tuple[str, str]] = None,
    strict_mode: bool = True,
    max_whitespace_cnt: Optional[int] = None,
    lenient: bool = False,
    general_unicode_escapes: bool = False,
    any_order: bool = False,
    refs: Optional[Mapping[str, Any]] = None,
) -> SchemaConversion:
    """Convert a JSON schema into an EBNF grammar (see :meth:`xgram.Grammar.from_json_schema`)."""
    options = JsonSchemaOptions(
        any_whitespace=any_whitespace,
        indent=indent,
        separators=separators,
        strict_mode=strict_mode,
        max_whitespace_cnt=max_whitespace_cnt,
        lenient=lenient,
        general_unicode_escapes=general_unicode_escapes,
        any_order=any_order,
    )
    return convert_json_schema(schema, options, refs)


def convert_json_schema(
    schema: Any, options: JsonSchemaOptions, refs: Optional[Mapping[str, Any]] = None
) -> SchemaConversion:
    """Convert a JSON schema into an EBNF grammar under ``options``.

    Parameters
    ----------
    schema : str, dict, bool or pydantic model class
        The schema, as JSON text or parsed.
    options : JsonSchemaOptions
        Layout, strictness and leniency (already checked when built).
    refs : mapping of str to schema, optional
        The documents remote references point to, by absolute URI.

    """
    try:
        return _convert(load_schema(schema), options, refs)
    except RecursionError:
        # What the document walk and the index do not bound: chains of references.
        raise SchemaError(
            "the schema nests too deeply to convert: its sub-schemas and references chain "
            f"deeper than Python's recursion limit ({sys.getrecursionlimit()} frames) allows"
        ) from None


def _convert(
    schema: Any, options: JsonSchemaOptions, refs: Optional[Mapping[str, Any]]
) -> SchemaConversion:
    root = without_keywords_of_later_drafts(without_draft4_dollar_ids(schema))
    index = SchemaIndex(root, refs)
    norm = Normalizer(index, pattern_matches)
    norm.format_matches = format_matches  # type: ignore[attr-defined]
    norm.lenient = options.lenient
    emitter = Emitter(
        norm,
        any_whitespace=options.any_whitespace,
        indent=options.indent,
        separators=options.separators,
        max_whitespace_cnt=options.whitespace_limit,
        strict_mode=options.strict_mode,
        general_escapes=options.general_unicode_escapes,
        any_order=options.any_order,
    )
    top = emitter.value(((root, index.root_base, ""),), 0, "root_value")
    if top is None:
        raise SchemaError("no JSON value satisfies this schema", "", "")
    rules = {"root": top}
    rules.update(emitter.rules)
    rules.update(base_rules(emitter))
    ebnf = "\n".join(f"{name} ::= {body}" for name, body in rules.items()) + "\n"
    return SchemaConversion(ebnf, list(norm.relaxed), list(norm.notes), list(norm.relaxations))


def json_schema_grammar_handle(
    schema: Any,
    options: JsonSchemaOptions,
    refs: Optional[Mapping[str, Any]] = None,
    *,
    stacklevel: int = 3,
) -> _core.Grammar:
    """Convert and parse; warn about relaxations. Backs :meth:`xgram.Grammar.from_json_schema`.

    Parameters
    ----------
    schema, options, refs
        As :func:`convert_json_schema`.
    stacklevel : int, default 3
        Of each :class:`xgram.SchemaRelaxedWarning`: 3 names the caller of the
        function that calls this one (the user's call of ``from_json_schema``).

    Raises
    ------
    SchemaError
        Also when the grammar parses to one that accepts no string.

    """
    result = convert_json_schema(schema, options, refs)
    for item in result.relaxed:
        warnings.warn(
            f"JSON schema constraint not enforced: {item}",
            SchemaRelaxedWarning,
            stacklevel=stacklevel,
        )
    try:
        return parse_ebnf(result.ebnf)
    except GrammarError as e:
        if "accepts no string" in str(e) or "no string" in str(e):
            raise SchemaError(f"no JSON value satisfies this schema ({e})") from None
        raise


__all__ = [
    "SchemaConversion",
    "convert_json_schema",
    "json_schema_grammar_handle",
    "json_schema_to_ebnf",
]
