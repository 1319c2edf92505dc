"""The options of a JSON Schema conversion, defined and checked in one place.

:meth:`xgram.Grammar.from_json_schema`, :meth:`xgram.GrammarCompiler.compile_json_schema`,
:func:`xgram.json_schema.json_schema_to_ebnf` and :func:`xgram.explain_json_schema` take
these as keyword arguments (what users call) and build one :class:`JsonSchemaOptions`,
which is what the conversion reads. It lives outside :mod:`xgram.json_schema` so that
``import xgram`` can name it without loading the converter.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional, Tuple

from .errors import SchemaError

DEFAULT_MAX_WHITESPACE = 64


@dataclass(frozen=True)
class JsonSchemaOptions:
    r"""How a JSON Schema becomes a grammar: layout, strictness, leniency.

    Attributes
    ----------
    any_whitespace : bool, default True
        Allow insignificant whitespace between tokens (at most
        ``max_whitespace_cnt`` characters in a row). When False, the layout is
        fixed by ``indent`` and ``separators``, as ``json.dumps`` writes it.
    indent : int, optional
        With ``any_whitespace=False``: newline and this many spaces per level.
    separators : (str, str), optional
        With ``any_whitespace=False``: the item and key separators; default
        ``(", ", ": ")``, or ``(",", ": ")`` with ``indent``. Stored as a tuple.
    strict_mode : bool, default True
        Objects that declare their members and arrays with ``prefixItems`` but no
        ``items`` admit nothing undeclared (XGrammar's strict mode).
    max_whitespace_cnt : int, optional
        Longest whitespace run with ``any_whitespace`` (default 64, see
        :attr:`whitespace_limit`).
    lenient : bool, default False
        Drop constraints that cannot be enforced exactly instead of raising.
    general_unicode_escapes : bool, default False
        Also accept ``\\uXXXX`` spellings of ordinary characters in patterns,
        formats, constants and keys.
    any_order : bool, default False
        Let an object's properties come in any order.

    Raises
    ------
    SchemaError
        On construction, for a negative or non-integer ``indent``, ``separators``
        that are not a pair of strings, or a ``max_whitespace_cnt`` below 1.

    """

    any_whitespace: bool = True
    indent: Optional[int] = None
    separators: Optional[Tuple[str, str]] = None
    strict_mode: bool = True
    max_whitespace_cnt: Optional[int] = None
    lenient: bool = False
    general_unicode_escapes: bool = False
    any_order: bool = False

    def __post_init__(self) -> None:
        indent, separators, max_whitespace_cnt = (
            self.indent,
            self.separators,
            self.max_whitespace_cnt,
        )
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
        if separators is not None:
            # A list is accepted as a pair; the frozen record keeps a tuple (hashable).
            object.__setattr__(self, "separators", tuple(separators))

    @property
    def whitespace_limit(self) -> int:
        """The longest whitespace run: ``max_whitespace_cnt``, or the default of 64."""
        return self.max_whitespace_cnt or DEFAULT_MAX_WHITESPACE

    def cache_key(self) -> str:
        """A text naming these options, equal for equal options (for compiled-grammar caches)."""
        return repr(sorted(asdict(self).items()))


__all__ = ["DEFAULT_MAX_WHITESPACE", "JsonSchemaOptions"]
