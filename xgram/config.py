"""Process-wide settings: compilation budgets."""

from __future__ import annotations

from typing import Optional, Tuple

from . import _core


def get_compile_limits() -> Tuple[int, float]:
    """The automaton budgets in force: (max_states, max_seconds)."""
    max_states, max_seconds = _core.get_compile_limits()
    return int(max_states), float(max_seconds)


def set_compile_limits(
    *, max_states: Optional[int] = None, max_seconds: Optional[float] = None
) -> None:
    """Change the budgets used when a grammar builds its automaton.

    A grammar exceeding them raises :class:`xgram.CompileBudgetError` instead of
    using unbounded time or memory. Defaults: 2,000,000 DFA states (NFA states are
    bounded at four times that), 30 seconds.

    Parameters
    ----------
    max_states : int, optional
        Most automaton states over all rules of one grammar.
    max_seconds : float, optional
        Most wall-clock seconds to build one grammar's automaton.

    """
    states, seconds = get_compile_limits()
    _core.set_compile_limits(
        int(states if max_states is None else max_states),
        float(seconds if max_seconds is None else max_seconds),
    )
