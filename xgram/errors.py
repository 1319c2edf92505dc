"""Exceptions raised by xgram.

Every error the C++ core can raise is translated into one of these classes, so
callers can rely on a typed exception with a readable message, never a crash.
"""

from __future__ import annotations


class XgramError(Exception):
    """Base class of all xgram errors."""


class GrammarError(XgramError, ValueError):
    """A grammar that cannot be parsed or is ill-formed.

    Attributes
    ----------
    line, column : int
        1-based location of the error in the grammar text, or 0 when the error
        has no single location (e.g. a missing root rule).

    """

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


class CompileBudgetError(XgramError, RuntimeError):
    """Compilation exceeded a budget (automaton states, time or memory)."""


class UsageError(XgramError, ValueError):
    """The API was misused (bad argument or a call in the wrong state)."""
