"""Exceptions raised by xgram, and the rule for which one a mistake gets.

Every error the C++ core can raise is translated into one of these classes, so
callers can rely on a typed exception with a readable message, never a crash.
Every error xgram raises on purpose is an :class:`XgramError`, and its message
names the argument (``token_id``, ``bitmask``, ``encoded_vocab[3]``) or the
location (line and column of grammar text, JSON pointer of a schema) at fault.

Which class, by what went wrong:

* **The wrong kind of object** for an argument (a float or a bool as a token
  id, ``None`` or a list as a bitmask, bytes where the grammar text must be
  ``str``): :class:`ArgumentTypeError`, which is a :class:`TypeError` as Python
  code expects and a :class:`UsageError` as all API misuse is. Integers of any
  integer type (``int``, numpy and torch integer scalars) are accepted
  wherever an ``int`` is asked for; a ``bool`` is refused, being almost
  always a slip.
* **A value of the right kind that is out of range or does not fit** (a token
  id outside ``[0, vocab_size)``, ``2**63``, rolling back more tokens than were
  accepted, a bitmask of the wrong dtype, shape, device or strides, or
  read-only; a string holding a lone surrogate, which UTF-8 cannot encode),
  and **a call in the wrong state** (accepting after the matcher terminated):
  :class:`UsageError`, a :class:`ValueError`. xgram does not use
  :class:`IndexError`: XGrammar raises ``RuntimeError`` for these, and its
  drop-in (``xgram.compat``) raises them as classes that are both.
* **Grammar text** (EBNF, regex, Lark) that cannot be parsed, including a lone
  surrogate in it: :class:`GrammarError`, with its line and column.
* **A JSON schema** that is malformed (NaN or Infinity, which JSON does not
  have; a lone surrogate; nesting too deep to convert; a number too long to
  read; an unsupported regex), unsatisfiable, or not expressible exactly:
  :class:`SchemaError`, with the keyword and JSON pointer.
* **A budget** (automaton states, seconds) exceeded: :class:`CompileBudgetError`;
  a compile cancelled through its :class:`xgram.CancellationToken`:
  :class:`CompileCancelledError`, a subclass, so a handler of budgets handles it too.
  A matcher step over its work limit (:func:`xgram.set_match_limits`):
  :class:`MatchBudgetError`, the matcher unchanged.
"""

from __future__ import annotations

import numbers
import operator
from typing import Any


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


class CompileCancelledError(CompileBudgetError):
    """The compile was cancelled from another thread (:class:`xgram.CancellationToken`)."""


class MatchBudgetError(XgramError, RuntimeError):
    """A matcher call would do more work in one byte step than the limit allows.

    An ambiguous or deeply nested grammar on a long input makes each step of the
    matcher costlier (see :func:`xgram.set_match_limits`). The matcher is left as
    it was before the call (a bitmask being filled holds no meaningful mask).
    """


class UsageError(XgramError, ValueError):
    """The API was misused (bad argument or a call in the wrong state)."""


class ArgumentTypeError(UsageError, TypeError):
    """An argument of the wrong type; catch it as :class:`TypeError` or :class:`UsageError`."""


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


_index = operator.index  # a global, not an attribute lookup per call


def integer_argument(value: Any, name: str) -> int:
    """``value`` as an ``int``, or :class:`ArgumentTypeError` naming the argument ``name``.

    Takes what ``operator.index`` takes (``int``, numpy and torch integer scalars),
    not floats, strings or ``bool``. Callers on the per-token path skip it for a
    plain ``int`` (``type(value) is int``), so it costs nothing there.
    """
    if type(value) is bool:  # an int to operator.index, but as a token id a slip
        raise ArgumentTypeError(f"{name} is bool {value!r}, not an integer")
    try:
        return _index(value)
    except TypeError:
        raise ArgumentTypeError(f"{name} is {shown(value)}, not an integer") from None


def real_argument(value: Any, name: str) -> float:
    """``value`` as a ``float``, or :class:`ArgumentTypeError` naming the argument ``name``.

    Takes real numbers (``int``, ``float``, numpy scalars), not strings or ``bool``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{name} is {shown(value)}, not a real number")
    return float(value)


def shown(value: Any, limit: int = 60) -> str:
    """``value``'s type and a one-line repr cut at ``limit`` characters, for messages."""
    text = " ".join(repr(value).split())
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{type(value).__name__} {text}"


def lone_surrogate_error(text: str, name: str) -> UsageError:
    """The :class:`UsageError` for a ``str`` argument that UTF-8 cannot encode.

    ``text`` must hold a lone surrogate (``text.encode("utf-8")`` fails); the
    error names the argument, the surrogate and its index.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return UsageError(
            f"{name} holds a lone surrogate {text[exc.start]!r} at index {exc.start}, "
            "which is not a character (UTF-8 cannot encode it)"
        )
    raise AssertionError(f"{name} is valid UTF-8")  # pragma: no cover - caller's contract
