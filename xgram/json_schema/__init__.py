"""JSON Schema to grammar: exact, or a clear error.

Pipeline: :mod:`.resolver` loads the document (and the caller's ``refs``
registry of remote documents) and indexes ``$id``/``$anchor``/``$dynamicAnchor``;
:mod:`.normalize` (with :mod:`.keywords`, :mod:`.negation`, :mod:`.disjoint`)
rewrites each schema into a union of flat constraint records, following
``$ref`` and intersecting ``allOf``; :mod:`.emit` spells the records as EBNF
rules, with :mod:`.numbers` for numeric ranges, :mod:`.formats` for ``format`` and
the C++ JSON string encoder for ``pattern`` and lengths. The EBNF then goes
through the ordinary grammar compiler. :mod:`.options` holds the conversion's
options and :mod:`.convert` its entry points; this package only re-exports them.
"""

from __future__ import annotations

from ..errors import GrammarError, SchemaError
from ..schema_options import DEFAULT_MAX_WHITESPACE, JsonSchemaOptions
from .convert import SchemaConversion, json_schema_to_ebnf

__all__ = [
    "DEFAULT_MAX_WHITESPACE",
    "GrammarError",
    "JsonSchemaOptions",
    "SchemaConversion",
    "SchemaError",
    "json_schema_to_ebnf",
]
