"""xgram: exact, fast constrained decoding.

A grammar (EBNF, JSON) is compiled into a byte-level pushdown automaton; a
matcher runs it with a graph-structured stack.
"""

from __future__ import annotations

from .errors import CompileBudgetError, GrammarError, UsageError, XgramError
from .grammar import CheckResult, Grammar

__all__ = [
    "CheckResult",
    "CompileBudgetError",
    "Grammar",
    "GrammarError",
    "UsageError",
    "XgramError",
]

__version__ = "0.1.0"
