"""Plumbing shared by the drop-in's modules.

Error translation: XGrammar raises ``RuntimeError`` (or one of its
``RuntimeError`` subclasses) where xgram raises its own ``ValueError``
subclasses (:class:`xgram.GrammarError`, :class:`xgram.SchemaError`,
:class:`xgram.UsageError`). Serving engines written for XGrammar catch
``RuntimeError`` (SGLang does), so every error leaving the drop-in is re-raised
as a class deriving from both: the xgram class it was, and ``RuntimeError``.
``except RuntimeError``, ``except ValueError`` and ``except xgram.GrammarError``
all keep working.

Also here: :func:`not_supported` (the error for names xgram cannot honour), a
bounded LRU cache, and the reader of the drop-in's versioned JSON.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections import OrderedDict
from typing import Any, Callable, Dict, Generic, Hashable, Optional, Type, TypeVar

import xgram
from xgram.compat import NotSupportedByXgramError

from .config import SERIALIZATION_VERSION
from .exception import DeserializeFormatError, DeserializeVersionError, InvalidJSONError

logger = logging.getLogger("xgrammar")
"""XGrammar logs rejected tokens as warnings; the drop-in does so on this logger."""

_Func = TypeVar("_Func", bound=Callable[..., Any])
_Value = TypeVar("_Value")

_runtime_variants: Dict[Type[BaseException], Type[BaseException]] = {}


def _runtime_variant(cls: Type[BaseException]) -> Type[BaseException]:
    """A subclass of ``cls`` and ``RuntimeError``, made once per class."""
    variant = _runtime_variants.get(cls)
    if variant is None:
        variant = type(cls.__name__, (cls, RuntimeError), {"__module__": cls.__module__})
        _runtime_variants[cls] = variant
    return variant


def as_runtime_error(exc: BaseException) -> BaseException:
    """``exc`` as an instance that is also a ``RuntimeError``, message and attributes kept."""
    if isinstance(exc, RuntimeError):
        return exc
    variant = _runtime_variant(type(exc))
    # Bypass __init__: xgram's error classes format their message from their
    # arguments, and the message is already formatted.
    clone = variant.__new__(variant, *exc.args)
    clone.args = exc.args
    clone.__dict__.update(exc.__dict__)
    return clone


def translate_errors(func: _Func) -> _Func:
    """Decorator: xgram errors leave ``func`` as ``RuntimeError`` subclasses (see module doc)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except xgram.XgramError as exc:
            raise as_runtime_error(exc).with_traceback(exc.__traceback__) from None

    return wrapper  # type: ignore[return-value]


def not_supported(name: str, reason: str) -> NotSupportedByXgramError:
    """The error for an XGrammar name xgram cannot honour (the caller raises it)."""
    return NotSupportedByXgramError(name, reason)


class BoundedCache(Generic[_Value]):
    """A thread-safe mapping keeping the ``capacity`` most recently used entries."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[Hashable, _Value] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> Optional[_Value]:
        """The value of ``key`` (now the most recently used), or None."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def add(self, key: Hashable, value: _Value) -> bool:
        """Store ``value``; True when ``key`` was not there before."""
        with self._lock:
            is_new = key not in self._entries
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
            return is_new


def load_versioned_json(json_string: str, type_name: str) -> Dict[str, Any]:
    """Parse serialized data and check its ``__VERSION__``, raising XGrammar's errors."""
    try:
        data = json.loads(json_string)
    except (TypeError, ValueError) as exc:
        raise InvalidJSONError(f"Invalid JSON error: {exc}") from None
    if not isinstance(data, dict):
        raise DeserializeFormatError(
            f"Deserialize format error: a serialized {type_name} is a JSON object"
        )
    version = data.get("__VERSION__")
    if version != SERIALIZATION_VERSION:
        raise DeserializeVersionError(
            "Deserialize version error: Wrong version in serialized object: "
            f"Got {version}, expected {SERIALIZATION_VERSION}"
        )
    return data
