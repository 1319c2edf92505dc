r"""Checks of a schema document as JSON, before it is read as a schema.

``json.loads`` takes what JSON does not have (``NaN``, ``Infinity``, lone
surrogates written as ``\ud800``), a dict built in Python can hold anything,
and the converter recurses through nested values. So that each of these is a
:class:`~xgram.errors.SchemaError` naming its location rather than a crash in
the middle of the conversion (``decimal.InvalidOperation``, a bare
``TypeError`` from the core, a grammar for the text ``Infinity``), the document
is walked once, without recursion:

* a number that is not finite (``float`` or ``Decimal`` NaN and infinities);
* an integer too long to print (Python refuses to print integers of more than
  ``sys.get_int_max_str_digits()`` digits; the converter prints bounds);
* a string, or an object key, that holds a lone surrogate, which UTF-8 cannot
  encode and so no grammar can spell;
* a ``const`` or ``enum`` value nested deeper than :data:`MAX_VALUE_DEPTH`.

Annotations (``default``, ``examples``, ``title``, ``description``,
``$comment``) constrain nothing and are not looked into: a pydantic model's
``default=float("inf")`` does not make its schema unusable.
"""

from __future__ import annotations

import math
import re
import sys
from decimal import Decimal
from typing import Any, List, Tuple

from .._compile_scope import POLL_PERIOD_MASK, check_compile
from ..errors import SchemaError

MAX_VALUE_DEPTH = 64
"""Deepest nesting of arrays and objects in a ``const`` or ``enum`` value.

The converter checks constants against the schema's other keywords by
recursion, and gives up some way past 64 levels; real schemas nest their
constants a few levels at most.
"""

MAX_SCHEMA_DEPTH = 200
"""Deepest nesting of sub-schemas the converter takes (the schema index refuses more)."""

_ANNOTATIONS = frozenset(("default", "examples", "title", "description", "$comment"))
# Keywords whose values are sub-schemas: a map of them, a list of them, or one
# (`items` is a list of schemas in drafts before 2020-12, a schema after).
SCHEMA_MAP_KEYWORDS = (
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
)
SCHEMA_LIST_KEYWORDS = ("allOf", "anyOf", "oneOf", "prefixItems")
SCHEMA_VALUE_KEYWORDS = (
    "additionalProperties",
    "propertyNames",
    "items",
    "additionalItems",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "unevaluatedProperties",
    "unevaluatedItems",
)
_SCHEMA_MAPS = frozenset(SCHEMA_MAP_KEYWORDS)
_SCHEMA_LISTS = frozenset(SCHEMA_LIST_KEYWORDS + ("items",))
_SCHEMA_VALUES = frozenset(SCHEMA_VALUE_KEYWORDS)
_CONSTANTS = frozenset(("const", "enum"))
_LONG_INTEGER_BITS = 4000  # below this many bits (1,204 digits) no integer is too long

# What a node on the walk is: a schema, a constant (const/enum, depth-limited), other data.
_SCHEMA, _CONSTANT, _DATA = 0, 1, 2
# A node to visit: (value, kind, schema pointer, keyword, path inside the keyword's value,
# depth inside a constant).
_Node = Tuple[Any, int, str, str, str, int]


def check_document(document: Any) -> None:
    """Raise SchemaError for the first value in ``document`` that JSON cannot hold.

    Parameters
    ----------
    document : dict or bool
        A schema, as parsed JSON or built in Python.

    Raises
    ------
    SchemaError
        Naming the keyword, the JSON pointer of the schema object that holds it,
        and where inside the keyword's value the fault is.

    """
    stack: List[_Node] = [(document, _SCHEMA, "", "", "", 0)]
    visited = 0
    while stack:
        visited += 1
        if not visited & POLL_PERIOD_MASK:  # the compile's deadline and cancel token
            check_compile()
        value, kind, pointer, keyword, path, depth = stack.pop()
        if isinstance(value, dict):
            if kind == _SCHEMA:
                _schema_children(value, pointer, stack)
            else:
                depth = _deeper(kind, pointer, keyword, path, depth)
                for key, item in value.items():
                    at = f"{path}/{_pointer_token(str(key))}"
                    _check_scalar(key, pointer, keyword, path, is_key=True)
                    stack.append((item, kind, pointer, keyword, at, depth))
        elif isinstance(value, (list, tuple)):
            depth = _deeper(kind, pointer, keyword, path, depth)
            for position, item in enumerate(value):
                stack.append((item, kind, pointer, keyword, f"{path}/{position}", depth))
        else:
            _check_scalar(value, pointer, keyword, path)


def _schema_children(schema: dict, pointer: str, stack: List[_Node]) -> None:
    """Push the members of a schema object, each with the kind its keyword gives it."""
    for keyword, value in schema.items():
        _check_scalar(keyword, pointer, "", "", is_key=True)
        if keyword in _ANNOTATIONS:
            continue
        at = f"{pointer}/{_pointer_token(str(keyword))}"
        if keyword in _SCHEMA_MAPS and isinstance(value, dict):
            for name, sub in value.items():
                _check_scalar(name, pointer, keyword, "", is_key=True)
                stack.append((sub, _SCHEMA, f"{at}/{_pointer_token(str(name))}", "", "", 0))
        elif keyword in _SCHEMA_LISTS and isinstance(value, list):
            for position, sub in enumerate(value):
                stack.append((sub, _SCHEMA, f"{at}/{position}", "", "", 0))
        elif keyword in _SCHEMA_VALUES and isinstance(value, (dict, bool)):
            stack.append((value, _SCHEMA, at, "", "", 0))
        else:
            kind = _CONSTANT if keyword in _CONSTANTS else _DATA
            # enum's members are the constants: its list itself is not a level.
            depth = -1 if keyword == "enum" else 0
            stack.append((value, kind, pointer, keyword, "", depth))


def _deeper(kind: int, pointer: str, keyword: str, path: str, depth: int) -> int:
    """``depth + 1`` for a container inside a constant, refused past MAX_VALUE_DEPTH."""
    if kind != _CONSTANT:
        return depth
    if depth + 1 > MAX_VALUE_DEPTH:
        raise SchemaError(
            f"the value nests deeper than {MAX_VALUE_DEPTH} levels of arrays and objects "
            f"(at {_location(pointer, keyword, path)}); xgram takes constants nested at "
            "most that deep",
            keyword,
            pointer,
        )
    return depth + 1


def _check_scalar(value: Any, pointer: str, keyword: str, path: str, is_key: bool = False) -> None:
    """Refuse a number JSON cannot hold or a string UTF-8 cannot encode.

    ``pointer`` is the schema object's, ``keyword`` the keyword whose value holds
    ``value`` at ``path`` inside it; a key (``is_key``) is one of the object at ``path``.
    """
    where = _location(pointer, keyword, path)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            what = f"the key {value!r} of {where or 'the object'}" if is_key else "the string"
            at = f" at {where}" if where and not is_key else ""
            raise SchemaError(
                f"{what}{at} holds a lone surrogate {value[exc.start]!r} at index {exc.start}, "
                "which is not a character (no JSON text can spell it)",
                keyword,
                pointer,
            ) from None
    elif isinstance(value, (float, Decimal)):
        if not (value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)):
            name = "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
            subject = f"the value at {where} is {name}," if path else f"{name} is"
            raise SchemaError(
                f"{subject} not a JSON number (JSON has no NaN or Infinity)",
                keyword,
                pointer,
            )
    elif isinstance(value, int) and value.bit_length() > _LONG_INTEGER_BITS:
        try:
            str(value)
        except ValueError:
            digits = int(value.bit_length() * math.log10(2)) + 1
            subject = f"the integer at {where}" if path else "the integer"
            raise SchemaError(
                f"{subject} has about {digits} digits, more than the "
                f"{sys.get_int_max_str_digits()} that Python converts to text",
                keyword,
                pointer,
            ) from None


def _location(pointer: str, keyword: str, path: str) -> str:
    """The JSON pointer of ``path`` inside the value of ``keyword`` of the schema at ``pointer``."""
    if not keyword:
        return pointer
    return f"{pointer}/{_pointer_token(keyword)}{path}"


def schema_text_error(text: str, error: Exception) -> SchemaError:
    """The SchemaError for JSON text that ``json.loads`` could not read.

    ``error`` is the RecursionError of text nested too deeply, or the ValueError of
    an integer too long to convert; the message gives the line and column.
    """
    if isinstance(error, RecursionError):
        depth, offset = _deepest_nesting(text)
        line, column = _line_column(text, offset)
        return SchemaError(
            f"the schema text nests {depth} levels of arrays and objects (the deepest at "
            f"line {line}, column {column}), too deep to parse; xgram converts schemas "
            f"nested at most {MAX_SCHEMA_DEPTH} sub-schemas deep"
        )
    limit = sys.get_int_max_str_digits()
    match = re.search(rf"\d{{{limit + 1},}}", text) if limit else None
    if match is None:
        return SchemaError(f"the schema is not valid JSON: {error}")
    line, column = _line_column(text, match.start())
    return SchemaError(
        f"the schema text has a number of {len(match.group())} digits at line {line}, "
        f"column {column}: more than the {limit} that Python converts"
    )


def _deepest_nesting(text: str) -> Tuple[int, int]:
    """(deepest nesting of [ and { outside strings, offset where it is reached)."""
    depth = deepest = where = 0
    in_string = escaped = False
    for offset, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest, where = depth, offset
        elif char in "]}":
            depth -= 1
    return deepest, where


def _pointer_token(key: Any) -> str:
    """One reference token of a JSON pointer (RFC 6901)."""
    return str(key).replace("~", "~0").replace("/", "~1")


def _line_column(text: str, offset: int) -> Tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1
