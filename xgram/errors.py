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


class SchemaError(XgramError, ValueError):
    """A JSON schema that xgram cannot turn into an exact grammar.

    Raised for malformed schemas, schemas no instance satisfies, and keywords
    (or combinations) that a grammar cannot express exactly. ``lenient=True``
    turns the last kind into documented approximations instead.

    Attributes
    ----------
    keyword : str
        The schema keyword at fault (e.g. ``"uniqueItems"``), or ``""``.
    pointer : str
        JSON pointer (RFC 6901) to the schema object holding the keyword,
        ``""`` for the root.

    """

    def __init__(self, message: str, keyword: str = "", pointer: str = "") -> None:
        where = f" at {pointer or '#'}" if keyword or pointer else ""
        what = f"{keyword!r}{where}: " if keyword else (f"{where.strip()}: " if where else "")
        super().__init__(what + message)
        self.keyword = keyword
        self.pointer = pointer


class SchemaRelaxedWarning(UserWarning):
    """A JSON schema constraint was dropped because ``lenient=True`` was asked for."""
