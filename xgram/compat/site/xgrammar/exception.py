"""XGrammar's exception classes (all ``RuntimeError`` subclasses, as in XGrammar 0.2.9)."""

from __future__ import annotations

from xgram.compat import NotSupportedByXgramError


class DeserializeFormatError(RuntimeError):
    """Serialized data does not have the layout of the object, or is for another tokenizer."""


class DeserializeVersionError(RuntimeError):
    """Serialized data carries another serialization version (see ``get_serialization_version``)."""


class InvalidStructuralTagError(RuntimeError):
    """A structural tag that is not valid."""


class InvalidJSONError(RuntimeError):
    """Text that should be JSON is not."""


__all__ = [
    "DeserializeFormatError",
    "DeserializeVersionError",
    "InvalidJSONError",
    "InvalidStructuralTagError",
    "NotSupportedByXgramError",
]
