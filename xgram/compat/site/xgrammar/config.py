"""Process-wide settings under XGrammar's names.

XGrammar bounds the recursion of its compile passes with a process-wide depth
(default 10,000, or ``XGRAMMAR_MAX_RECURSION_DEPTH``). xgram's passes bound their
work with :func:`xgram.set_compile_limits` instead (automaton states and
seconds), so the depth is kept and reported here for code that sets and reads
it, and xgram does not need it.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Iterator

_DEFAULT_DEPTH = 10_000
_LARGEST_DEPTH_FROM_ENV = 1_000_000

SERIALIZATION_VERSION = "xgram-compat-v1"
"""Written as ``__VERSION__`` by every ``serialize_json`` of the drop-in."""


def _depth_from_environment() -> int:
    text = os.environ.get("XGRAMMAR_MAX_RECURSION_DEPTH", "")
    try:
        depth = int(text)
    except ValueError:
        return _DEFAULT_DEPTH
    return depth if 0 < depth <= _LARGEST_DEPTH_FROM_ENV else _DEFAULT_DEPTH


_depth_lock = threading.Lock()
_depth = _depth_from_environment()


def get_max_recursion_depth() -> int:
    """The process-wide maximum recursion depth (see the module doc)."""
    return _depth


def set_max_recursion_depth(max_recursion_depth: int) -> None:
    """Set the process-wide maximum recursion depth; thread-safe.

    Raises
    ------
    ValueError
        When ``max_recursion_depth`` is not a positive integer.

    """
    global _depth
    if isinstance(max_recursion_depth, bool) or not isinstance(max_recursion_depth, int):
        raise ValueError(f"max_recursion_depth must be an int, got {max_recursion_depth!r}")
    if max_recursion_depth <= 0:
        raise ValueError(f"max_recursion_depth must be positive, got {max_recursion_depth}")
    with _depth_lock:
        _depth = max_recursion_depth


@contextmanager
def max_recursion_depth(temp_depth: int) -> Iterator[None]:
    """Set the maximum recursion depth inside a ``with`` block, restoring it after."""
    previous = get_max_recursion_depth()
    set_max_recursion_depth(temp_depth)
    try:
        yield
    finally:
        set_max_recursion_depth(previous)


def get_serialization_version() -> str:
    """The ``__VERSION__`` written into serialized grammars, tokenizers and compiled grammars.

    It differs from XGrammar's (``"v18"`` in 0.2.9): the drop-in's serialized
    objects are xgram's, so data written by XGrammar is refused with
    :class:`~xgrammar.exception.DeserializeVersionError` instead of misread.
    """
    return SERIALIZATION_VERSION
