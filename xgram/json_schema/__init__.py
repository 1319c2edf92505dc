"""JSON Schema to grammar: exact, or a clear error.

Pipeline: :mod:`.resolver` loads the document (and the caller's ``refs``
registry of remote documents) and indexes ``$id``/``$anchor``/``$dynamicAnchor``;
:mod:`.normalize` (with :mod:`.keywords`, :mod:`.negation`, :mod:`.disjoint`)
rewrites each schema into a union of flat constraint records, following
``$ref`` and intersecting ``allOf``; :mod:`.emit` spells the records as EBNF
rules, with :mod:`.numbers` for numeric ranges, :mod:`.formats` for ``format`` and
the C++ JSON string encoder for ``pattern`` and lengths. The EBNF then goes
through the ordinary grammar compiler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Mapping, Optional, Tuple

from ..errors import GrammarError, SchemaError
from .emit import Emitter, base_rules
from .matching import format_matches, pattern_matches
from .normalize import Normalizer
from .resolver import SchemaIndex, load_schema, without_draft4_dollar_ids

DEFAULT_MAX_WHITESPACE = 64


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
    if indent is not None and (not isinstance(indent, int) or indent < 0):
        raise SchemaError(f"indent must be a non-negative integer, got {indent!r}")
    if separators is not None and (
        not isinstance(separators, (tuple, list))
        or len(separators) != 2
        or not all(isinstance(s, str) for s in separators)
    ):
        raise SchemaError(f"separators must be a pair of strings, got {separators!r}")
    if max_whitespace_cnt is not None and (
        not isinstance(max_whitespace_cnt, int) or max_whitespace_cnt < 1
    ):
        raise SchemaError(
            f"max_whitespace_cnt must be a positive integer, got {max_whitespace_cnt!r}"
        )
    root = without_draft4_dollar_ids(load_schema(schema))
    index = SchemaIndex(root, refs)
    norm = Normalizer(index, pattern_matches)
    norm.format_matches = format_matches  # type: ignore[attr-defined]
    norm.lenient = lenient
    emitter = Emitter(
        norm,
        any_whitespace=any_whitespace,
        indent=indent,
        separators=tuple(separators) if separators is not None else None,
        max_whitespace_cnt=max_whitespace_cnt or DEFAULT_MAX_WHITESPACE,
        strict_mode=strict_mode,
        general_escapes=general_unicode_escapes,
        any_order=any_order,
    )
    top = emitter.value(((root, index.root_base, ""),), 0, "root_value")
    if top is None:
        raise SchemaError("no JSON value satisfies this schema", "", "")
    rules = {"root": top}
    rules.update(emitter.rules)
    rules.update(base_rules(emitter))
    ebnf = "\n".join(f"{name} ::= {body}" for name, body in rules.items()) + "\n"
    return SchemaConversion(ebnf, list(norm.relaxed), list(norm.notes), list(norm.relaxations))


__all__ = ["GrammarError", "SchemaConversion", "SchemaError", "json_schema_to_ebnf"]


def convert_to_grammar(schema: Any, **options: Any) -> Any:
    """Convert and parse; warn about relaxations. Backs :meth:`Grammar.from_json_schema`."""
    import warnings  # noqa: PLC0415

    from ..errors import SchemaRelaxedWarning  # noqa: PLC0415
    from ..grammar import Grammar  # noqa: PLC0415

    result = json_schema_to_ebnf(schema, **options)
    for item in result.relaxed:
        warnings.warn(
            f"JSON schema constraint not enforced: {item}", SchemaRelaxedWarning, stacklevel=3
        )
    try:
        return Grammar.from_ebnf(result.ebnf)
    except GrammarError as e:
        if "accepts no string" in str(e) or "no string" in str(e):
            raise SchemaError(f"no JSON value satisfies this schema ({e})") from None
        raise
