"""JSON schemas as XGrammar takes them, and the lenient retry (issue 18, item 4).

XGrammar silently ignores JSON Schema keywords it cannot enforce
(``uniqueItems``, ``contains`` with bounds, some ``format``s...); xgram
refuses them (:class:`xgram.SchemaError`) unless asked for ``lenient=True``.
A serving engine written for XGrammar accepts such a request, so the drop-in
must not fail it: when xgram refuses a schema, the drop-in converts it again
with ``lenient=True`` and warns once for that schema
(:class:`~xgram.compat.XGrammarSchemaRelaxedWarning`, naming each dropped
constraint). xgram's own API keeps refusing by default.

The lenient EBNF of a schema is remembered (a bounded LRU keyed by the schema
text and options), so a schema that needed the retry is neither converted
twice nor warned about twice while it stays in the cache.
"""

from __future__ import annotations

import json
import warnings
from typing import Any, Dict, Tuple

import xgram
from xgram.compat import XGrammarSchemaRelaxedWarning
from xgram.json_schema import json_schema_to_ebnf

from ._shim import BoundedCache

_LENIENT_CACHE_ENTRIES = 512

SchemaKey = Tuple[str, str]


def schema_text(schema: Any) -> str:
    """The JSON text of a schema given as text, a dict (or bool) or a pydantic model class.

    Raises
    ------
    ValueError
        For any other type, as XGrammar does.

    """
    if isinstance(schema, str):
        return schema
    if isinstance(schema, (dict, bool)):
        return json.dumps(schema)
    if isinstance(schema, type) and hasattr(schema, "model_json_schema"):
        return json.dumps(schema.model_json_schema())
    raise ValueError("The schema should be a string or a Pydantic model.")


# Schema key -> lenient EBNF of the schemas that needed the retry.
lenient_schemas: BoundedCache[str] = BoundedCache(_LENIENT_CACHE_ENTRIES)


def schema_key(text: str, options: Dict[str, Any]) -> SchemaKey:
    """The cache key of a schema text compiled with ``options`` (separators may be a list)."""
    return text, json.dumps(options, sort_keys=True)


def lenient_ebnf(key: SchemaKey, text: str, options: Dict[str, Any]) -> str:
    """The EBNF of a schema xgram refused, converted with ``lenient=True``; warns once.

    Raises
    ------
    xgram.SchemaError
        When the schema is refused even leniently (malformed, or no value
        satisfies it): XGrammar would have failed too.

    """
    conversion = json_schema_to_ebnf(text, lenient=True, **options)
    if lenient_schemas.add(key, conversion.ebnf) and conversion.relaxed:
        # stacklevel 5 points at the caller's line: past this function, the
        # helper below, the drop-in's method and its translate_errors wrapper.
        warnings.warn(XGrammarSchemaRelaxedWarning(conversion.relaxed), stacklevel=5)
    return conversion.ebnf


def grammar_from_json_schema(schema: Any, options: Dict[str, Any]) -> xgram.Grammar:
    """The xgram grammar for ``schema``, exact when xgram can, lenient otherwise (module doc)."""
    text = schema_text(schema)
    key = schema_key(text, options)
    ebnf = lenient_schemas.get(key)
    if ebnf is None:
        try:
            return xgram.Grammar.from_json_schema(text, **options)
        except xgram.SchemaError:
            ebnf = lenient_ebnf(key, text, options)
    return xgram.Grammar.from_ebnf(ebnf)


def compile_json_schema(
    compiler: xgram.GrammarCompiler, schema: Any, options: Dict[str, Any]
) -> xgram.CompiledGrammar:
    """As :func:`grammar_from_json_schema`, compiled by ``compiler`` (and cached there)."""
    text = schema_text(schema)
    key = schema_key(text, options)
    ebnf = lenient_schemas.get(key)
    if ebnf is None:
        try:
            return compiler.compile_json_schema(text, **options)
        except xgram.SchemaError:
            ebnf = lenient_ebnf(key, text, options)
    return compiler.compile_grammar(ebnf)
