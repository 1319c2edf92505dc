"""JSON values as the schema sees them: equality, types and spelling.

JSON Schema compares instances by value: ``1`` equals ``1.0``, ``true`` does not
equal ``1``, and object key order does not matter. :func:`canonical` gives every
value a hashable key with exactly that equality.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Hashable

NON_NUMBER_TYPES = ("null", "boolean", "string", "array", "object")


def to_decimal(value: Any) -> Decimal:
    """A JSON number as an exact decimal (floats by their shortest repr)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(value))


def is_number(value: Any) -> bool:
    """Whether ``value`` is a JSON number (``bool`` is not)."""
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def json_type(value: Any) -> str:
    """The JSON Schema type of a value ("integer" for numbers with no fraction)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        d = to_decimal(value)
        return "integer" if d.is_finite() and d == d.to_integral_value() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {value!r}")


def canonical(value: Any) -> Hashable:
    """A hashable key under which equal JSON values (by JSON Schema's rules) collide."""
    if value is None or isinstance(value, (bool, str)):
        return (type(value).__name__, value)
    if is_number(value):
        return ("number", to_decimal(value).normalize())
    if isinstance(value, list):
        return ("array", tuple(canonical(v) for v in value))
    if isinstance(value, dict):
        return ("object", tuple(sorted((k, canonical(v)) for k, v in value.items())))
    raise TypeError(f"not a JSON value: {value!r}")
