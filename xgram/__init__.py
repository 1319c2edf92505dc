"""xgram: exact, fast constrained decoding.

A grammar (EBNF, JSON) is compiled into a byte-level pushdown automaton; a
matcher runs it with a graph-structured stack.
"""

from __future__ import annotations

from .compiler import CompiledGrammar, GrammarCompiler
from .config import get_compile_limits, set_compile_limits
from .errors import (
    CompileBudgetError,
    GrammarError,
    SchemaError,
    SchemaRelaxedWarning,
    UsageError,
    XgramError,
)
from .grammar import CheckResult, Grammar
from .matcher import (
    GrammarMatcher,
    allocate_token_bitmask,
    apply_token_bitmask_inplace,
    get_bitmask_shape,
    reset_token_bitmask,
)
from .tokenizer_info import TokenizerInfo, VocabType

__all__ = [
    "CheckResult",
    "CompileBudgetError",
    "CompiledGrammar",
    "Grammar",
    "GrammarCompiler",
    "GrammarError",
    "GrammarMatcher",
    "SchemaError",
    "SchemaRelaxedWarning",
    "TokenizerInfo",
    "UsageError",
    "VocabType",
    "XgramError",
    "allocate_token_bitmask",
    "apply_token_bitmask_inplace",
    "get_bitmask_shape",
    "get_compile_limits",
    "reset_token_bitmask",
    "set_compile_limits",
]

__version__ = "0.1.0"
