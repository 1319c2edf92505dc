"""The jsonschema oracle of the JSON Schema tests: numbers as exact decimals.

``jsonschema`` decides "integer" on Python floats; parsing instances with
``parse_float=Decimal`` keeps them exact, and this type checker accepts a
Decimal with no fraction as an integer (``1.0`` is an integer since draft 6).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import jsonschema


def is_exact_integer(checker: Any, instance: Any) -> bool:
    if isinstance(instance, bool):
        return False
    if isinstance(instance, int):
        return True
    if isinstance(instance, Decimal):
        return instance.is_finite() and instance == instance.to_integral_value()
    return isinstance(instance, float) and instance.is_integer()


def exact_validator(cls: Any) -> Any:
    """``cls`` (a jsonschema validator class) with the exact integer check."""
    types = cls.TYPE_CHECKER.redefine("integer", is_exact_integer)
    return jsonschema.validators.extend(cls, type_checker=types)


def no_constants(name: str) -> Any:
    """``parse_constant`` hook: NaN and Infinity are not JSON."""
    raise ValueError(f"{name} is not JSON")
