"""One time budget over a whole compile, and cancellation from another thread.

A compile runs through the JSON Schema converter (Python), the EBNF parser, the IR
passes, the automaton builder and, when asked, the mask precomputation. A serving
engine wants one deadline over all of them, counted from the call, and a way to
abort a compile whose request went away.

:func:`compile_scope` enters a control of the C++ core (``cpp/support/
compile_control.h``) for the calling thread: every C++ stage polls it in its loops,
and the converter polls it through :func:`check_compile`. A scope nested in another
(``Grammar.from_json_schema`` inside ``GrammarCompiler.compile_json_schema``) keeps
the outer deadline and token in force as well as its own.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Optional

from . import _core
from .errors import ArgumentTypeError, UsageError, real_argument

#: Polls the calling thread's compile control: raises CompileCancelledError or
#: CompileBudgetError when the compile must stop; nothing outside a compile.
check_compile = _core.check_compile_control

#: Loops over many small items (enum members, document nodes) poll when
#: ``count & POLL_PERIOD_MASK == 0``: every 1024th item.
POLL_PERIOD_MASK = 1023


class CancellationToken:
    """Cancels the compiles it is passed to, from any thread.

    Pass it to a ``GrammarCompiler.compile_*`` call (``cancel=token``); calling
    :meth:`cancel` from another thread makes that compile raise
    :class:`xgram.CompileCancelledError` at its next check (the converter checks per
    schema node, the C++ stages every few hundred steps). One token may serve
    several compiles, and a cancelled token stays cancelled: a compile started with
    it raises at once, even when its grammar is cached.

    Examples
    --------
    >>> token = xgram.CancellationToken()
    >>> threading.Timer(0.5, token.cancel).start()  # the client disconnected
    >>> compiler.compile_json_schema(schema, cancel=token)  # doctest: +SKIP
    Traceback (most recent call last):
    xgram.errors.CompileCancelledError: the compile was cancelled

    """

    __slots__ = ("_flag",)

    def __init__(self) -> None:
        self._flag = _core.CancelFlag()

    def cancel(self) -> None:
        """Ask every compile using this token to stop (thread-safe, idempotent)."""
        self._flag.cancel()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` has been called."""
        return bool(self._flag.cancelled)

    def __repr__(self) -> str:
        return f"CancellationToken(cancelled={self.cancelled})"


def _seconds(max_seconds: Optional[float]) -> float:
    if max_seconds is None:
        return float(_core.get_compile_limits()[1])
    seconds = real_argument(max_seconds, "max_seconds")
    if not seconds > 0:  # also NaN
        raise UsageError(f"max_seconds must be > 0, got {max_seconds!r}")
    return seconds


@contextmanager
def compile_scope(
    max_seconds: Optional[float] = None, cancel: Optional[CancellationToken] = None
) -> Iterator[None]:
    """Run the block as one compile: a deadline ``max_seconds`` from now and ``cancel``.

    ``max_seconds`` None: the process-wide budget (:func:`xgram.set_compile_limits`).
    Raises CompileCancelledError at once when ``cancel`` is already cancelled.
    """
    if cancel is not None and not isinstance(cancel, CancellationToken):
        raise ArgumentTypeError(
            f"cancel must be an xgram.CancellationToken or None, got {type(cancel).__name__}"
        )
    control = _core.CompileControl(_seconds(max_seconds), None if cancel is None else cancel._flag)
    control.enter()
    try:
        control.check()
        yield
    finally:
        control.exit()


__all__ = ["POLL_PERIOD_MASK", "CancellationToken", "check_compile", "compile_scope"]
